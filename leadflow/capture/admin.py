from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from leadflow.capture.models import Form, FormConsentVersion, FormField, FormRejection
from leadflow.core.admin import ViewOnlyAdmin
from leadflow.tracking.admin import event_type_column


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", event_type_column("event_type", _("extra event")),
                    "consent_version", "active")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FormFieldInline]


@admin.register(FormConsentVersion)
class FormConsentVersionAdmin(ViewOnlyAdmin):
    """Append-only: the proof of what was shown."""

    list_display = ("form", "version", "created_at")


@admin.register(FormRejection)
class FormRejectionAdmin(ViewOnlyAdmin):
    list_display = ("form", "day", "reason", "count")
