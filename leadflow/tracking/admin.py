from django.contrib import admin

from leadflow.core.admin import ViewOnlyAdmin
from leadflow.tracking.models import Event, TrackingSite, Visitor


@admin.register(Event)
class EventAdmin(ViewOnlyAdmin):
    """Read-only: the timeline is append-only."""

    list_display = ("type", "lead", "visitor_id", "via", "occurred_at")
    list_filter = ("type", "via")
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
