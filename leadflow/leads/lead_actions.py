"""The shape of a form on the lead page that another app handles (lifecycle's stage
actions, sales' activities): find the lead in the user's scope, do one thing, say what
was done and go back to the lead; an expected error is shown with a way back."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest, render_error
from leadflow.leads.models import Lead
from leadflow.leads.services import get_visible_lead


def act_on_lead(request: AuthedRequest, lead_id: int,
                action: Callable[[Lead], str]) -> HttpResponse:
    """Run `action` on the lead (404 outside the user's scope); its text is the message."""
    try:
        lead = get_visible_lead(request.user, lead_id)
        done = action(lead)
    except LeadflowError as exc:
        if exc.status == 404:
            return render_error(request, exc)
        return render_error(request, exc, back_url=reverse("leads:detail", args=[lead_id]),
                            back_label=_("Back to the lead"))
    messages.success(request, done)
    return redirect("leads:detail", lead_id=lead_id)


def posted(request: AuthedRequest, name: str) -> str:
    """A posted field's text, trimmed ("" when absent)."""
    return request.POST.get(name, "").strip()
