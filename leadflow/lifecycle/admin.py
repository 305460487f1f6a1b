from django.contrib import admin

from leadflow.lifecycle.models import QualificationReason, StageDefinition, StageThreshold


@admin.register(StageDefinition)
class StageDefinitionAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "name_fr", "position", "kind", "owned_by", "is_handoff",
                    "is_closed")
    list_editable = ("position",)


@admin.register(QualificationReason)
class QualificationReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "label_en", "label_fr", "needs_note", "position", "active")


@admin.register(StageThreshold)
class StageThresholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "stage", "from_stages", "group", "min_score", "min_grade",
                    "event_type", "content_kind", "pattern", "active")
