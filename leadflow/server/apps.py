from django.apps import AppConfig


class ServerConfig(AppConfig):
    """What composes the apps into one server (the API mount, the worker, the web server,
    demo data); last in INSTALLED_APPS, above every app, and no app imports it."""

    name = "leadflow.server"
    label = "server"
