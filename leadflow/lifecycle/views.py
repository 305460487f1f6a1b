"""Stage actions from the lead's page (its forms post here; the page is leads', which
stands below lifecycle): a move by hand, accepting or rejecting a hand-off, disqualifying,
marking a deal won or lost."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest, render_error
from leadflow.leads.lead_actions import act_on_lead, posted
from leadflow.leads.models import Lead
from leadflow.leads.services import get_visible_lead
from leadflow.lifecycle import services, stages


@login_required
@require_POST
def lead_stage(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def move(lead: Lead) -> str:
        change = services.change_stage(lead, posted(request, "stage"), actor=request.user,
                                       reason=posted(request, "reason"))
        return (_("The stage is changed.") if change
                else _("The lead was already in that stage."))
    return act_on_lead(request, lead_id, move)


@login_required
@require_POST
def handoff_accept(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def accept(lead: Lead) -> str:
        services.accept_handoff(lead, actor=request.user)
        return _("You accepted the lead.")
    return act_on_lead(request, lead_id, accept)


@login_required
@require_POST
def handoff_reject(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def reject(lead: Lead) -> str:
        services.reject_handoff(lead, actor=request.user, reason=posted(request, "reason"),
                                note=posted(request, "note"))
        return _("The lead went back to nurturing, with your reason.")
    return act_on_lead(request, lead_id, reject)


@login_required
@require_POST
def lead_disqualify(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def disqualify(lead: Lead) -> str:
        services.disqualify(lead, actor=request.user, reason=posted(request, "reason"),
                            note=posted(request, "note"))
        return _("The lead is disqualified.")
    return act_on_lead(request, lead_id, disqualify)


@login_required
@require_POST
def lead_outcome(request: AuthedRequest, lead_id: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    reason = request.POST.get("reason", "").strip()
    try:
        lead = get_visible_lead(request.user, lead_id)
        change = services.mark_outcome(lead, outcome, actor=request.user, reason=reason)
    except LeadflowError as exc:
        if exc.status == 404:
            return render_error(request, exc)
        return render_error(request, exc, back_url=reverse("leads:detail", args=[lead_id]),
                            back_label=_("Back to the lead"))
    if change is None:
        messages.info(request, _("%(lead)s was already marked as %(stage)s.")
                      % {"lead": lead, "stage": stages.name(lead.stage)})
    elif outcome == "won":
        messages.success(request, _("%(lead)s is marked as won.") % {"lead": lead})
    else:
        messages.success(request, _("%(lead)s is marked as lost.") % {"lead": lead})
    return redirect("leads:detail", lead_id=lead.pk)
