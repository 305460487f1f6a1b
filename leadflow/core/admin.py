"""What every app's admin shares. The admin edits configuration (rules, stages, forms,
templates, campaigns, teams, users); the data the services write (leads, their timeline,
ledgers, messages, enrollments) is shown there, never written: a raw edit would skip the
event, the consent-ledger row and the recompute that the services do. Changes to such data
are admin actions that call the services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ViewOnly:
    """For a ModelAdmin or an inline of data that only the services write."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ViewOnlyAdmin(ViewOnly, admin.ModelAdmin):
    pass


# Leadflow's names on every admin page ("View site" leads back to the home page).
admin.site.site_header = _("Leadflow administration")
admin.site.site_title = _("Leadflow administration")
admin.site.index_title = _("Settings and data")
admin.site.site_url = "/"
