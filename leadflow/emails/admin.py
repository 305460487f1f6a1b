from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from leadflow.core.admin import ViewOnlyAdmin
from leadflow.emails import services
from leadflow.emails.models import EmailMessage, EmailTemplate


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "subject", "marketing")


@admin.register(EmailMessage)
class EmailMessageAdmin(ViewOnlyAdmin):
    list_display = ("subject", "to_email", "status", "attempts", "error", "campaign",
                    "sent_at", "opened_at")
    list_filter = ("status",)
    actions = ["send_again"]
    raw_id_fields = ("lead",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send the failed ones again"))
    def send_again(self, request, queryset):
        count = services.retry_failed(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(count)d failed email queued again.",
                                            "%(count)d failed emails queued again.",
                                            count) % {"count": count}, messages.INFO)
