"""Marking a deal won or lost from the lead's page (its form posts here; the page is
leads', which stands below lifecycle)."""

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
from leadflow.leads.services import get_visible_lead
from leadflow.lifecycle.services import mark_outcome


@login_required
@require_POST
def lead_outcome(request: AuthedRequest, lead_id: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    reason = request.POST.get("reason", "").strip()
    try:
        lead = get_visible_lead(request.user, lead_id)
        change = mark_outcome(lead, outcome, actor=request.user, reason=reason)
    except LeadflowError as exc:
        if exc.status == 404:
            return render_error(request, exc)
        return render_error(request, exc, back_url=reverse("leads:detail", args=[lead_id]),
                            back_label=_("Back to the lead"))
    if change is None:
        messages.info(request, _("%(lead)s was already marked as %(stage)s.")
                      % {"lead": lead, "stage": lead.get_stage_display()})
    elif outcome == "won":
        messages.success(request, _("%(lead)s is marked as won.") % {"lead": lead})
    else:
        messages.success(request, _("%(lead)s is marked as lost.") % {"lead": lead})
    return redirect("leads:detail", lead_id=lead.pk)
