"""Likely duplicates: the list with the two leads side by side, merge, dismiss, undo."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from leadflow.core.errors import NotFound
from leadflow.core.http import AuthedRequest
from leadflow.leads import dedupe, merge
from leadflow.leads.models import LeadMerge
from leadflow.leads.services import get_visible_lead, valid_id

COMPARED = (("email", gettext_lazy("Email")), ("phone_display", gettext_lazy("Phone")),
            ("company_name", gettext_lazy("Company")), ("title", gettext_lazy("Job title")),
            ("country", gettext_lazy("Country")), ("city", gettext_lazy("City")),
            ("source", gettext_lazy("Source")), ("get_stage_display", gettext_lazy("Stage")),
            ("score", gettext_lazy("Score")), ("owner", gettext_lazy("Owner")),
            ("created_at", gettext_lazy("Created")))


def _suggestion(user, suggestion_id: int):
    found = (dedupe.open_suggestions(user).filter(pk=suggestion_id).first()
             if valid_id(suggestion_id) else None)
    if found is None:
        raise NotFound(_("No open duplicate suggestion #%(id)s (or you may not see both "
                         "leads).") % {"id": suggestion_id})
    return found


def _value(lead, name: str):
    value = getattr(lead, name)
    value = value() if callable(value) else value
    return None if value == "" else value  # the template shows "–" for None only


@login_required
@require_safe
def duplicates(request: AuthedRequest) -> HttpResponse:
    page = Paginator(dedupe.open_suggestions(request.user), 25).get_page(
        request.GET.get("page"))
    pairs = [{"suggestion": s, "rows": [(label, _value(s.lead_a, name), _value(s.lead_b, name))
                                        for name, label in COMPARED]} for s in page]
    return render(request, "leads/duplicates.html", {"page": page, "pairs": pairs})


@login_required
@require_POST
def merge_pair(request: AuthedRequest, suggestion_id: int) -> HttpResponse:
    """Keeps the lead chosen in `keep` (either of the pair); merges the other into it."""
    suggestion = _suggestion(request.user, suggestion_id)
    keep, other = suggestion.lead_a, suggestion.lead_b
    if request.POST.get("keep") == str(other.pk):
        keep, other = other, keep
    audit = merge.merge_leads(keep, other, actor=request.user)
    messages.success(request, _("Merged into %(lead)s.") % {"lead": audit.kept})
    return redirect("leads:detail", lead_id=audit.kept_id)


@login_required
@require_POST
def dismiss_pair(request: AuthedRequest, suggestion_id: int) -> HttpResponse:
    dedupe.dismiss(_suggestion(request.user, suggestion_id), actor=request.user)
    messages.success(request, _("Marked as not duplicates."))
    return redirect("leads:duplicates")


@login_required
@require_POST
def undo_merge(request: AuthedRequest, merge_id: int) -> HttpResponse:
    audit = (LeadMerge.objects.filter(pk=merge_id).first()
             if valid_id(merge_id) else None)
    if audit is None:
        raise NotFound(_("No merge #%(id)s.") % {"id": merge_id})
    get_visible_lead(request.user, audit.kept_id)
    restored = merge.undo_merge(audit, actor=request.user)
    messages.success(request, _("Merge undone: %(lead)s is back.") % {"lead": restored})
    return redirect("leads:detail", lead_id=restored.pk)
