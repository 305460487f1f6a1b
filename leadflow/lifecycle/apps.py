from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "leadflow.lifecycle"
    label = "lifecycle"
