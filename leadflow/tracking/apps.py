from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "leadflow.tracking"
    label = "tracking"

    def ready(self) -> None:
        from leadflow.core import pipeline
        from leadflow.tracking.services import record_halt

        pipeline.set_halt_recorder(record_halt)
