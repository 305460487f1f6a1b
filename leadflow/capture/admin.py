from django.contrib import admin

from leadflow.capture.models import Form, FormConsentVersion, FormField, FormRejection


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "event_type", "consent_version", "active")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FormFieldInline]


@admin.register(FormConsentVersion)
class FormConsentVersionAdmin(admin.ModelAdmin):
    list_display = ("form", "version", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only: the proof of what was shown


@admin.register(FormRejection)
class FormRejectionAdmin(admin.ModelAdmin):
    list_display = ("form", "day", "reason", "count")
