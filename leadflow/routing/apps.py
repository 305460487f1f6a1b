from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "leadflow.routing"
    label = "routing"

    def ready(self) -> None:
        from leadflow.leads.signals import leads_to_route
        from leadflow.routing.services import on_leads_to_route

        leads_to_route.connect(on_leads_to_route, dispatch_uid="routing.route_new_leads")
