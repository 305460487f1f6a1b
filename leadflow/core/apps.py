from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CoreConfig(AppConfig):
    name = "leadflow.core"
    label = "core"
    verbose_name = gettext_lazy("Core")

    def ready(self) -> None:
        # Registers the `__among` lookup (one array parameter for many values) on every
        # field before any query uses it.
        from leadflow.core import sqlarrays  # noqa: F401
