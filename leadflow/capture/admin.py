from django.contrib import admin

from leadflow.capture.models import Form


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "event_type", "consent_version", "active")
    prepopulated_fields = {"slug": ("name",)}
