from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "leadflow.emails"
    label = "emails"

    def ready(self) -> None:
        # A hook of leads, which stands below emails (docs/architecture.md, "Layers").
        from leadflow.emails.erasure import forget_in_email_rows
        from leadflow.leads.privacy import register_store

        register_store(forget_in_email_rows)
