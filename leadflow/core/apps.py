from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadflow.core"
    label = "core"

    def ready(self) -> None:
        # Registers the `__among` lookup (one array parameter for many values) on every
        # field before any query uses it.
        from leadflow.core import sqlarrays  # noqa: F401
