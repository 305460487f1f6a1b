from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LifecycleConfig(AppConfig):
    name = "leadflow.lifecycle"
    label = "lifecycle"
    verbose_name = gettext_lazy("Lifecycle stages")

    def ready(self) -> None:
        from leadflow.lifecycle import labels, stages  # noqa: F401 (stages: its cache hooks)
        from leadflow.lifecycle.transitions import on_scores_rebuilt
        from leadflow.scoring.signals import scores_rebuilt

        scores_rebuilt.connect(on_scores_rebuilt, dispatch_uid="lifecycle_scores_rebuilt")
        labels.register()
