from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CaptureConfig(AppConfig):
    name = "leadflow.capture"
    label = "capture"
    verbose_name = gettext_lazy("Forms and capture")

    def ready(self) -> None:
        # A hook of emails, which stands below capture (docs/architecture.md, "Layers").
        from leadflow.capture.services import awaiting_confirmation_among
        from leadflow.emails.services import register_marketing_hold

        register_marketing_hold(awaiting_confirmation_among)

        # A hook of leads: sources `form:<slug>` read as the form's name.
        from leadflow.capture import labels

        labels.register()
