from django.contrib import admin

from leadflow.lifecycle.models import StageThreshold


@admin.register(StageThreshold)
class StageThresholdAdmin(admin.ModelAdmin):
    list_display = ("stage", "min_score")
