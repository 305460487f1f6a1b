from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "leadflow.campaigns"
    label = "campaigns"

    def ready(self) -> None:
        # Hooks of leads, which stands below campaigns (docs/architecture.md, "Layers").
        from leadflow.campaigns import services
        from leadflow.leads import signals

        signals.merging.connect(services.on_merging, dispatch_uid="campaigns.merging")
        signals.merge_undone.connect(services.on_merge_undone,
                                     dispatch_uid="campaigns.merge_undone")
