"""The frequency caps page (/emails/caps/): the caps, a form to add one, and each one's
edit form and delete button. Admins and marketing (`emails.caps`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadflow.core.errors import LeadflowError, NotFound
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.core.params import valid_id
from leadflow.emails import caps, suppression_list
from leadflow.emails.models import FrequencyCap

_viewers_only = allowed_only(caps.may_view, gettext_lazy(
    "Only admins and marketing see the frequency caps."))
_editors_only = allowed_only(caps.may_edit, gettext_lazy(
    "Only admins and marketing edit the frequency caps."))


def _find(cap_id: int) -> FrequencyCap | None:
    return FrequencyCap.objects.filter(pk=cap_id).first() if valid_id(cap_id) else None


def _state(cap: FrequencyCap | None) -> dict[str, Any]:
    if cap is None:
        return {"campaign": "", "max_messages": "", "period_hours": "",
                "when_reached": FrequencyCap.WhenReached.SKIP}
    return {"campaign": cap.campaign_id or "", "max_messages": cap.max_messages,
            "period_hours": cap.period_hours, "when_reached": cap.when_reached}


def _state_from_post(post: QueryDict) -> dict[str, Any]:
    return {f: post.get(f, "") for f in caps.FIELDS}


def _form_context(form: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"form": form, "campaigns": caps.campaign_choices(),
            "choices": FrequencyCap.WhenReached.choices,
            "selected_campaign": str(form.get("campaign") or ""), **extra}


@_viewers_only
@require_http_methods(["GET", "HEAD", "POST"])
def cap_list(request: AuthedRequest) -> HttpResponse:
    """The caps and the form to add one; POST adds it."""
    may_edit = caps.may_edit(request.user)
    form, status, extra = _state(None), 200, {}
    if request.method == "POST":
        form = _state_from_post(request.POST)
        try:
            caps.save_cap(request.user, None, form)
        except LeadflowError as exc:
            if exc.status == 403:
                return render_error(request, exc)
            status, extra = exc.status, {"error": exc.message, "error_field": exc.field or ""}
        else:
            messages.success(request, _("The frequency cap is saved."))
            return redirect("emails:caps")
    return render(request, "emails/caps.html", {
        "caps": caps.all_caps(), "may_edit": may_edit,
        "sees_suppression": suppression_list.may_view(request.user),
        **_form_context(form, **extra)},
        status=status)


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def cap_edit(request: AuthedRequest, cap_id: int) -> HttpResponse:
    cap = _find(cap_id)
    if cap is None:
        return render_error(request, NotFound(_("No such frequency cap.")))
    if request.method != "POST":
        return render(request, "emails/cap_edit.html", _form_context(_state(cap), cap=cap))
    form = _state_from_post(request.POST)
    try:
        caps.save_cap(request.user, cap, form)
    except LeadflowError as exc:
        return render(request, "emails/cap_edit.html", _form_context(
            form, cap=cap, error=exc.message, error_field=exc.field or ""), status=exc.status)
    messages.success(request, _("The frequency cap is saved."))
    return redirect("emails:caps")


@_editors_only
@require_POST
def cap_delete(request: AuthedRequest, cap_id: int) -> HttpResponse:
    cap = _find(cap_id)
    if cap is None:
        return render_error(request, NotFound(_("No such frequency cap.")))
    caps.delete_cap(request.user, cap)
    messages.success(request, _("The frequency cap is deleted."))
    return redirect("emails:caps")
