from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class LeadsConfig(AppConfig):
    name = "leadflow.leads"
    label = "leads"
    verbose_name = gettext_lazy("Leads")

    def ready(self) -> None:
        # Hooks of tracking, which stands below leads (docs/architecture.md, "Layers").
        from leadflow.leads import events, services
        from leadflow.tracking import visitors

        visitors.register_identify(services.upsert_lead)
        events.register()
