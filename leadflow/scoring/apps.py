from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "leadflow.scoring"
    label = "scoring"

    def ready(self) -> None:
        # A hook of leads, which stands below scoring (docs/architecture.md, "Layers").
        from leadflow.leads import signals
        from leadflow.scoring import services

        signals.rows_moved.connect(services.on_rows_moved, dispatch_uid="scoring.rows_moved")
