from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leadflow.audit.models import ACTIONS, AuditEntry


class ActionFilter(admin.SimpleListFilter):
    """The actions by their names in the reader's language, not their codes."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(code, words) for code, words in ACTIONS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is only ever appended to, by Leadflow."""

    list_display = ("at", "kind", "action_shown", "actor_label", "object_type_shown",
                    "object_repr", "ip")
    list_filter = ("kind", ActionFilter)

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, entry: AuditEntry) -> str:
        return entry.action_label()

    @admin.display(description=_("what"), ordering="object_type")
    def object_type_shown(self, entry: AuditEntry) -> str:
        return entry.object_type_label()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
