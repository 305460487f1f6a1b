from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import ApiToken, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role", "team", "accepts_leads", "is_active")
    list_filter = ("role", "team", "is_active", "accepts_leads")
    fieldsets = (*(BaseUserAdmin.fieldsets or ()),
                 (_("Leadflow"), {"fields": ("role", "team", "accepts_leads", "time_zone",
                                              "last_assigned_at")}))
    readonly_fields = ("last_assigned_at",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "description")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "scope", "expires_at", "created_at",
                    "last_used_at", "revoked")
    list_filter = ("revoked", "scope")
    # A token's reach is fixed when it is made (`leadflow token create --scope --expires`).
    readonly_fields = ("prefix", "digest", "scope", "expires_at", "created_at", "last_used_at")
    fields = ("user", "name", "revoked", "scope", "expires_at", "prefix", "digest",
              "created_at", "last_used_at")

    def has_add_permission(self, request):
        # Tokens are shown once at creation: create them with `leadflow token create`.
        return False
