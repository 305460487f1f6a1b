from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ImportsConfig(AppConfig):
    name = "leadflow.imports"
    label = "imports"
    verbose_name = gettext_lazy("Imports")

    def ready(self) -> None:
        # A hook of leads, which stands below imports (docs/architecture.md, "Layers").
        from leadflow.imports.erasure import forget_in_imports
        from leadflow.leads.privacy import register_store

        register_store(forget_in_imports)
