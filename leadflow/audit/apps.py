from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "leadflow.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from leadflow.audit import signals

        signals.connect()
