from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "leadflow.campaigns"
    label = "campaigns"

    def ready(self) -> None:
        # Hooks of leads, which stands below campaigns (docs/architecture.md, "Layers").
        from leadflow.campaigns import services
        from leadflow.campaigns.erasure import forget_in_enrollment_errors
        from leadflow.leads import signals
        from leadflow.leads.privacy import register_store

        register_store(forget_in_enrollment_errors)

        signals.merging.connect(services.on_merging, dispatch_uid="campaigns.merging")
        signals.merge_undone.connect(services.on_merge_undone,
                                     dispatch_uid="campaigns.merge_undone")
