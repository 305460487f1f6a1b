from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leadflow.scoring.models import ScoreGroup, ScoreRule
from leadflow.tracking.admin import event_type_column


@admin.register(ScoreRule)
class ScoreRuleAdmin(admin.ModelAdmin):
    list_display = ("name", event_type_column("event_type", _("event type")), "conditions",
                    "points", "category", "max_times", "per", "group", "active")
    list_filter = ("group", "category", "active")
    list_editable = ("points", "active")


@admin.register(ScoreGroup)
class ScoreGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_primary", "inactivity_days", "half_life_days")
