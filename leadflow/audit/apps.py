from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AuditConfig(AppConfig):
    name = "leadflow.audit"
    label = "audit"
    verbose_name = gettext_lazy("Audit log")

    def ready(self) -> None:
        from leadflow.audit import signals

        signals.connect()
