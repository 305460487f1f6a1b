from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.models import Role, User
from leadflow.accounts.permissions import lead_scope
from leadflow.core.admin import ViewOnly, ViewOnlyAdmin
from leadflow.core.errors import Forbidden
from leadflow.core.http import AuthedRequest
from leadflow.leads.models import Company, Consent, CustomFieldDefinition, Lead


class ConsentInline(ViewOnly, admin.TabularInline):
    """The ledger is written by the services, with proof."""

    model = Consent
    extra = 0
    fields = ("purpose", "action", "text_version", "method", "ip", "page_url", "recorded_at")


class AssignForm(forms.Form):
    rep = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.filter(is_active=True,
                                     role__in=[Role.SALES_REP, Role.SALES_MANAGER]))


@admin.register(Lead)
class LeadAdmin(ViewOnlyAdmin):
    """Shown, never edited: a lead changes through the app (its page, the API, imports)
    or through the actions here, which call the services (an event each)."""

    list_display = ("__str__", "email", "stage", "score", "owner", "source", "created_at")
    list_filter = ("stage", "channel", "do_not_email")
    search_fields = ("email", "first_name", "last_name", "company_name", "external_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "company")
    show_full_result_count = False  # COUNT(*) on millions of rows is slow
    inlines = [ConsentInline]
    # Routing adds "assign_to_rep" (routing/admin.py): it stands above leads.
    actions = ["erase_people"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lead]:
        scope = lead_scope(request.user)  # type: ignore[arg-type]  # staff only, signed in
        leads = super().get_queryset(request)
        return leads if scope is None else leads.filter(scope)

    @admin.action(description=_("Erase personal data"))
    def erase_people(self, request: AuthedRequest, queryset: QuerySet[Lead]):
        from leadflow.leads.privacy import erase_lead

        if "apply" not in request.POST:
            return self._confirm(request, queryset, "erase_people", _("Erase"), None,
                                 _("Erase these people? This cannot be undone."))
        try:
            for lead in queryset.filter(erased_at__isnull=True):
                erase_lead(lead, actor=request.user)
        except Forbidden as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        self.message_user(request, _("Erased."))
        return None

    def _confirm(self, request: HttpRequest, queryset: QuerySet[Lead], action: str,
                 title, form: forms.Form | None, question) -> HttpResponse:
        return TemplateResponse(request, "admin/leads/lead/confirm_action.html", {
            **self.admin_site.each_context(request), "title": title, "question": question,
            "form": form, "action": action, "leads": list(queryset),
            "opts": self.model._meta, "back_url": reverse("admin:leads_lead_changelist")})


@admin.register(Company)
class CompanyAdmin(ViewOnlyAdmin):
    list_display = ("name", "domain", "size", "industry", "country")
    search_fields = ("name", "domain")


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type")
