from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class EmailsConfig(AppConfig):
    name = "leadflow.emails"
    label = "emails"
    verbose_name = gettext_lazy("Emails")

    def ready(self) -> None:
        # A hook of leads, which stands below emails (docs/architecture.md, "Layers").
        from anymail.signals import tracking

        from leadflow.emails.bounces import forget_in_bounce_rows
        from leadflow.emails.erasure import forget_in_email_rows
        from leadflow.emails.provider_events import on_tracking
        from leadflow.leads.privacy import register_store

        register_store(forget_in_email_rows)

        from leadflow.emails.policy import reason_label
        from leadflow.tracking.events import describe_with
        from leadflow.tracking.models import EventType

        describe_with(EventType.EMAIL_SKIPPED, detail=lambda p: " · ".join(
            filter(None, [str(p.get("subject") or p.get("template") or ""),
                          reason_label(str(p.get("reason", "")))])))
        register_store(forget_in_bounce_rows)
        tracking.connect(on_tracking, dispatch_uid="leadflow.emails.provider_events")
