from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ScoringConfig(AppConfig):
    name = "leadflow.scoring"
    label = "scoring"
    verbose_name = gettext_lazy("Scoring")

    def ready(self) -> None:
        # A hook of leads, which stands below scoring (docs/architecture.md, "Layers").
        from leadflow.leads import scorecard, signals
        from leadflow.scoring import explain, jobs, services  # noqa: F401 (jobs: RescoreJob)

        signals.rows_moved.connect(services.on_rows_moved, dispatch_uid="scoring.rows_moved")
        scorecard.register_explainer(explain.explain)
