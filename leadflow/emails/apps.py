from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "leadflow.emails"
    label = "emails"
