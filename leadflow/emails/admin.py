from django.contrib import admin

from leadflow.core.admin import ViewOnlyAdmin
from leadflow.emails.models import EmailMessage, EmailTemplate


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "subject", "marketing")


@admin.register(EmailMessage)
class EmailMessageAdmin(ViewOnlyAdmin):
    list_display = ("subject", "to_email", "status", "campaign", "sent_at", "opened_at")
    list_filter = ("status",)
    raw_id_fields = ("lead",)
    show_full_result_count = False
