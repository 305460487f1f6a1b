from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LifecycleConfig(AppConfig):
    name = "leadflow.lifecycle"
    label = "lifecycle"
    verbose_name = gettext_lazy("Lifecycle stages")
