from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class RoutingConfig(AppConfig):
    name = "leadflow.routing"
    label = "routing"
    verbose_name = gettext_lazy("Routing")

    def ready(self) -> None:
        from leadflow.leads.signals import leads_to_route
        from leadflow.routing.services import on_leads_to_route

        leads_to_route.connect(on_leads_to_route, dispatch_uid="routing.route_new_leads")

        # The reasons routing writes, in the reader's words on the timeline.
        from django.utils.translation import gettext as _

        from leadflow.leads.labels import register_reason

        register_reason(r"round-robin in (.+)",
                        lambda m: _("round-robin in %(team)s") % {"team": m[1]})
        register_reason(r"assigned in the admin", lambda m: _("assigned in the admin"))
