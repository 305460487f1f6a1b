"""Personal data and exports in the UI: the CSV export of the list, one person's JSON
export, consent withdrawal and erasure (with a confirmation step)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from leadflow.core.errors import Forbidden
from leadflow.core.http import AuthedRequest
from leadflow.leads import exports, privacy, services

LIST_FILTERS = ("q", "stage", "owner", "source", "quality")


def list_filters(request: AuthedRequest) -> dict[str, str]:
    from leadflow.leads.views import SORTS

    filters = {name: request.GET.get(name, "").strip() for name in LIST_FILTERS}
    sort = request.GET.get("sort", "").strip() or "score"
    filters["sort"] = SORTS.get(sort, (sort,))[0]
    return filters


@login_required
@require_safe
def export_csv(request: AuthedRequest) -> HttpResponseBase:
    return exports.csv_response(request.user, list_filters(request))


@login_required
@require_safe
def export_person(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = services.get_visible_lead(request.user, lead_id)
    data = privacy.export_person(lead, actor=request.user)
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, indent=2),
                            content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}.json"'
    return response


@login_required
@require_POST
def withdraw_consent(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = services.get_visible_lead(request.user, lead_id)
    privacy.withdraw_consent(lead, actor=request.user)
    messages.success(request, _("Consent withdrawn: %(lead)s gets no more marketing "
                                "email.") % {"lead": lead})
    return redirect("leads:detail", lead_id=lead.pk)


@login_required
def erase(request: AuthedRequest, lead_id: int) -> HttpResponse:
    """GET: the confirmation page; POST with confirm=yes: erase."""
    lead = services.get_visible_lead(request.user, lead_id)
    if not privacy.can_erase(request.user):
        raise Forbidden(_("Only administrators and marketing may erase a person."))
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        name = lead.display_name
        privacy.erase_lead(lead, actor=request.user)
        messages.success(request, _("%(lead)s was erased.") % {"lead": name})
        return redirect("leads:list")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    return render(request, "leads/erase.html", {
        "lead": lead, "back_url": reverse("leads:detail", args=[lead.pk])})
