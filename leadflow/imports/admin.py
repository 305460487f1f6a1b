from django.contrib import admin

from leadflow.core.admin import ViewOnlyAdmin
from leadflow.imports.models import ImportJob, ImportMapping


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "updated_at")


@admin.register(ImportJob)
class ImportJobAdmin(ViewOnlyAdmin):
    list_display = ("original_name", "status", "dry_run", "total", "created", "updated",
                    "unchanged", "rejected", "created_by", "created_at")
    list_filter = ("status", "dry_run")
