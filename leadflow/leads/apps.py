from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadflow.leads"
    label = "leads"

    def ready(self) -> None:
        # Hooks of tracking, which stands below leads (docs/architecture.md, "Layers").
        from leadflow.leads import events, services
        from leadflow.tracking import visitors

        visitors.register_identify(services.upsert_lead)
        events.register()
