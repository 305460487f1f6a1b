from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leadflow.scoring.models import ScoreRule
from leadflow.tracking.admin import event_type_column


@admin.register(ScoreRule)
class ScoreRuleAdmin(admin.ModelAdmin):
    list_display = ("name", event_type_column("event_type", _("event type")), "conditions",
                    "points", "category", "once_per_lead", "active")
    list_filter = ("category", "active")
    list_editable = ("points", "active")
