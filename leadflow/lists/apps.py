from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ListsConfig(AppConfig):
    name = "leadflow.lists"
    label = "lists"
    verbose_name = gettext_lazy("Lists and one-off sends")

    def ready(self) -> None:
        # Hooks of leads, which stands below lists (docs/architecture.md, "Layers").
        from leadflow.leads import signals
        from leadflow.lists import services

        signals.merging.connect(services.on_merging, dispatch_uid="lists.merging")
        signals.merge_undone.connect(services.on_merge_undone,
                                     dispatch_uid="lists.merge_undone")
