"""Handing a lead to another owner from the lead's page (its form posts here; the page is
leads', which stands below routing)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadflow.core.errors import InvalidInput, LeadflowError
from leadflow.core.http import AuthedRequest, render_error
from leadflow.core.params import parse_id
from leadflow.leads.services import get_visible_lead
from leadflow.routing.services import reassign_lead


@login_required
@require_POST
def change_owner(request: AuthedRequest, lead_id: int) -> HttpResponse:
    try:
        lead = get_visible_lead(request.user, lead_id)
        raw = request.POST.get("owner", "").strip()
        if not raw:
            raise InvalidInput(_("Choose the new owner."), field="owner")
        owner = reassign_lead(lead, parse_id(raw, "owner"), actor=request.user)
    except LeadflowError as exc:
        if exc.status == 404:
            return render_error(request, exc)
        return render_error(request, exc, back_url=reverse("leads:detail", args=[lead_id]),
                            back_label=_("Back to the lead"))
    messages.success(request, _("%(lead)s now belongs to %(owner)s.")
                     % {"lead": lead, "owner": owner})
    return redirect("leads:detail", lead_id=lead.pk)
