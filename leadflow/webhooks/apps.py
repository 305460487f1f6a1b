from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class WebhooksConfig(AppConfig):
    name = "leadflow.webhooks"
    label = "webhooks"
    verbose_name = gettext_lazy("Webhooks")

    def ready(self) -> None:
        from leadflow.campaigns.steps import Kind, register
        from leadflow.leads.privacy import register_store
        from leadflow.webhooks.services import send_erasures
        from leadflow.webhooks.steps import CALL_WEBHOOK, call_webhook, check_config

        # Receivers are told of an erasure so that they can honour it too (GDPR art. 19).
        register_store(send_erasures)
        register(Kind(CALL_WEBHOOK, gettext_lazy("Call a webhook"), "action", call_webhook,
                      check=check_config))
