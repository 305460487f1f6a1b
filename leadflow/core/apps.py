from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy

from leadflow.core import clock


class CoreConfig(AppConfig):
    name = "leadflow.core"
    label = "core"
    verbose_name = gettext_lazy("Core")

    def ready(self) -> None:
        # Registers the `__among` lookup (one array parameter for many values) on every
        # field before any query uses it.
        from leadflow.core import sqlarrays  # noqa: F401

        # A worker process started by a test follows the test's clock (test-only hook).
        if settings.CLOCK_FILE is not None:
            clock.follow_file(settings.CLOCK_FILE)
