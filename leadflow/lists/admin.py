from django.contrib import admin

from leadflow.lists.models import Broadcast, LeadList


@admin.register(LeadList)
class LeadListAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "created_at")
    search_fields = ("name",)

    def has_add_permission(self, request):  # members come through the lists' services
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "list", "test_mode", "scheduled_at", "queued_count",
                    "attempts", "last_error")
    list_filter = ("status", "test_mode")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
