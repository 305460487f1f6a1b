from django.contrib import admin

from leadflow.scoring.models import ScoreRule


@admin.register(ScoreRule)
class ScoreRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "event_type", "conditions", "points", "category", "once_per_lead",
                    "active")
    list_filter = ("category", "active")
    list_editable = ("points", "active")
