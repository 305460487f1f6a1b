from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ServerConfig(AppConfig):
    """What composes the apps into one server (the API mount, the worker, the web server,
    demo data); last in INSTALLED_APPS, above every app, and no app imports it. The ordered
    lists live here, as real imports, so that core names no app."""

    name = "leadflow.server"
    label = "server"
    verbose_name = gettext_lazy("Server")

    def ready(self) -> None:
        from leadflow.campaigns import engine as campaigns
        from leadflow.campaigns import entry as campaign_entry
        from leadflow.core import periodic, pipeline
        from leadflow.emails import dns_check, outbox
        from leadflow.imports import services as imports
        from leadflow.leads import retention, totals
        from leadflow.lifecycle import services as lifecycle
        from leadflow.lists import broadcasts
        from leadflow.notifications import deliverability
        from leadflow.notifications import services as notifications
        from leadflow.sales import followups
        from leadflow.scoring import decay
        from leadflow.scoring import jobs as rescores
        from leadflow.scoring import services as scoring
        from leadflow.segments import builds as segment_builds
        from leadflow.segments import services as segments
        from leadflow.segments import windows as segment_windows
        from leadflow.server import demo_reasons
        from leadflow.webhooks import delivery as webhooks
        from leadflow.webhooks import services as webhook_queue

        # The order is the behaviour: scores before the single lead write, the stage
        # after the new scores, campaigns reacting to both.
        # Hand-offs are told (assignment, notification, email) before campaigns react.
        # Segments only queue the leads to re-evaluate (a worker does it, in seconds).
        pipeline.configure((scoring.on_events, totals.on_events, lifecycle.on_events,
                            segments.on_events, notifications.on_events,
                            campaign_entry.on_events, webhook_queue.on_events))
        # Campaign steps, one-off sends and task reminders queue emails, so the outbox
        # comes after them; decay before the campaign steps, so that a lead whose score
        # fell takes its new path at once.
        # Segments after decay (scores moved) and before campaigns (entry by segment):
        # the rebuilds asked for first, then the time windows, so that the refresh takes
        # their leads in the same tick.
        periodic.configure((imports.run_due_jobs, rescores.run_due, decay.apply_decay,
                            segment_builds.run_due, segment_windows.check_time_windows,
                            segments.refresh_due,
                            campaigns.run_due_enrollments, broadcasts.run_due,
                            followups.send_due_reminders, outbox.send_due, webhooks.run_due,
                            retention.erase_due_automatically,
                            deliverability.alert_complaint_rates, dns_check.run_due))
        demo_reasons.register()
