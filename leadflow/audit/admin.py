from django.contrib import admin

from leadflow.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is only ever appended to, by Leadflow."""

    list_display = ("at", "kind", "action", "actor_label", "object_type", "object_repr", "ip")
    list_filter = ("kind", "action")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
