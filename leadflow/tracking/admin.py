from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leadflow.core.admin import ViewOnlyAdmin
from leadflow.tracking import events
from leadflow.tracking.models import Event, TrackingSite, Visitor


def event_type_column(field: str, description: Any) -> Callable[[Any], str]:
    """A list column naming the event type stored in `field` in the reader's language
    (the code itself, "stage_changed", means nothing to a reader)."""

    @admin.display(description=description, ordering=field)
    def shown(obj: Any) -> str:
        code = getattr(obj, field)
        return events.label(code) if code else ""

    return shown


class EventTypeFilter(admin.SimpleListFilter):
    """The declared event types by their names, in the reader's language (no scan of the
    events for the types they hold)."""

    title = _("type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return sorted(((code, events.label(code)) for code in events.REGISTRY),
                      key=lambda pair: pair[1].casefold())

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


@admin.register(Event)
class EventAdmin(ViewOnlyAdmin):
    """Read-only: the timeline is append-only."""

    list_display = (event_type_column("type", _("type")), "lead", "visitor_id", "via",
                    "occurred_at")
    list_filter = (EventTypeFilter, "via")
    raw_id_fields = ("lead", "actor")
    show_full_result_count = False


@admin.register(TrackingSite)
class TrackingSiteAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "allowed_domains")
    # Shown and set only on the tracking page, to administrators, and audited there.
    exclude = ("identity_secret",)


@admin.register(Visitor)
class VisitorAdmin(ViewOnlyAdmin):
    list_display = ("visitor_id", "lead", "is_bot", "first_seen", "last_seen")
    list_filter = ("is_bot",)
    raw_id_fields = ("lead", "site")
    search_fields = ("visitor_id",)
