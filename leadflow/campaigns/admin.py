from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core.admin import ViewOnlyAdmin
from leadflow.tracking.admin import event_type_column


class StepInline(admin.TabularInline):
    model = Step
    extra = 1
    fields = ("position", "kind", "template", "wait_seconds", "points")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", event_type_column("entry_event_type", _("enters on event")),
                    event_type_column("goal_event_type", _("goal event")), "active")
    inlines = [StepInline]


@admin.register(Enrollment)
class EnrollmentAdmin(ViewOnlyAdmin):
    list_display = ("lead", "campaign", "status", "next_position", "next_run_at", "attempts",
                    "last_error", "entered_at")
    list_filter = ("status", "campaign")
    raw_id_fields = ("lead",)
    show_full_result_count = False
