from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from leadflow.core.http import AuthedRequest
from leadflow.leads.admin import AssignForm, LeadAdmin
from leadflow.leads.models import Lead
from leadflow.routing.models import RoutingRule
from leadflow.routing.services import assign_leads


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "team", "countries", "sources", "active")
    list_editable = ("priority", "active")


@admin.action(description=_("Assign to a rep"))
def assign_to_rep(modeladmin: LeadAdmin, request: AuthedRequest, queryset: QuerySet[Lead]):
    form = AssignForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return modeladmin._confirm(request, queryset, "assign_to_rep", _("Assign"), form,
                                   _("Assign these leads to:"))
    leads = list(queryset)
    assign_leads([(lead, form.cleaned_data["rep"]) for lead in leads],
                 actor=request.user, reason="assigned in the admin")
    modeladmin.message_user(request, _("%(n)d leads assigned.") % {"n": len(leads)})
    return None


# The lead admin's action, added from here: routing stands above leads.
# (The admin is for staff only: the request's user is signed in, hence AuthedRequest.)
LeadAdmin.actions = [assign_to_rep, *LeadAdmin.actions]  # type: ignore[list-item]
