from django.contrib import admin

from leadflow.capture.models import Form, FormConsentVersion, FormField, FormRejection
from leadflow.core.admin import ViewOnlyAdmin


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "event_type", "consent_version", "active")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FormFieldInline]


@admin.register(FormConsentVersion)
class FormConsentVersionAdmin(ViewOnlyAdmin):
    """Append-only: the proof of what was shown."""

    list_display = ("form", "version", "created_at")


@admin.register(FormRejection)
class FormRejectionAdmin(ViewOnlyAdmin):
    list_display = ("form", "day", "reason", "count")
