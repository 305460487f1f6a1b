from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class TrackingConfig(AppConfig):
    name = "leadflow.tracking"
    label = "tracking"
    verbose_name = gettext_lazy("Tracking")

    def ready(self) -> None:
        from leadflow.core import pipeline
        from leadflow.tracking.services import record_halt

        pipeline.set_halt_recorder(record_halt)
