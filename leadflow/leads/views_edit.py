"""Editing a lead's profile by hand: a form of the profile fields and the custom fields
(by their label and type), saved through leads.services.edit_lead."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadflow.core.errors import InvalidInput, LeadflowError
from leadflow.core.http import AuthedRequest
from leadflow.leads import services
from leadflow.leads.models import BANT_FIELDS, CustomFieldDefinition, Lead, Timing

Type = CustomFieldDefinition.Type


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit_profile(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = services.get_visible_lead(request.user, lead_id)
    definitions = list(CustomFieldDefinition.objects.order_by("label", "key"))
    error, field, status = "", "", 200
    if request.method == "POST":
        try:
            changed = services.edit_lead(lead, form_changes(request.POST, definitions),
                                         actor=request.user)
        except LeadflowError as exc:
            error, field, status = exc.message, exc.field or "", exc.status
        else:
            if changed:
                messages.success(request, _("Profile saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect("leads:detail", lead.pk)
    values = request.POST if request.method == "POST" else None
    return render(request, "leads/edit.html", {
        "lead": lead, "error": error, "error_field": field,
        "fields": _profile_fields(lead, values),
        "custom_fields": _custom_fields(lead, definitions, values),
    }, status=status)


def _profile_fields(lead: Lead, posted) -> list[dict[str, Any]]:
    kinds = {"email": "email", "phone": "tel"}
    fields = [cast(models.Field, Lead._meta.get_field(name))
              for name in services.EDITABLE_FIELDS]
    return [{"name": f.name, "label": f.verbose_name, "type": kinds.get(f.name, "text"),
             "max": f.max_length, "choices": _bant_choices(f.name),
             "value": posted.get(f.name, "") if posted is not None
             else _shown(getattr(lead, f.name))} for f in fields]


def _shown(value: Any) -> str:
    """A value as the form shows it: a BANT yes/no as "yes"/"no", unknown as ""."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value or ""


def _bant_choices(name: str) -> list[tuple[str, str]]:
    """The options of a BANT field ("" is unknown); none for other fields."""
    if name == "timing":
        return [("", _("Unknown")), *((str(v), str(label)) for v, label in Timing.choices)]
    if name in BANT_FIELDS:
        return [("", _("Unknown")), ("yes", _("Yes")), ("no", _("No"))]
    return []


def _custom_fields(lead: Lead, definitions: list[CustomFieldDefinition],
                   posted) -> list[dict[str, Any]]:
    shown = []
    for d in definitions:
        value = lead.custom.get(d.key)
        if posted is not None:
            text = posted.get(f"custom.{d.key}", "")
        elif d.type == Type.BOOLEAN:
            text = "" if value is None else ("yes" if value else "no")
        else:
            text = "" if value is None else str(value)
        shown.append({"definition": d, "name": f"custom.{d.key}", "value": text,
                      "choices": [str(c) for c in d.choices or []]})
    return shown


def form_changes(post, definitions: list[CustomFieldDefinition]) -> dict[str, Any]:
    """The posted form as edit_lead's changes: text as typed, custom values in their type
    (a number, yes/no, a date or a choice); an empty custom field clears it."""
    changes: dict[str, Any] = {name: post.get(name, "") for name in services.EDITABLE_FIELDS
                               if name in post}
    custom: dict[str, Any] = {}
    for d in definitions:
        name = f"custom.{d.key}"
        if name not in post:
            continue
        text = post.get(name, "").strip()
        custom[d.key] = _typed(d, text, name) if text else None
    if custom:
        changes["custom"] = custom
    return changes


def _typed(d: CustomFieldDefinition, text: str, name: str) -> Any:
    if d.type == Type.NUMBER:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise InvalidInput(_("%(label)s must be a number.") % {"label": d.shown_label()},
                               field=name) from None
        return int(number) if number.is_integer() else number
    if d.type == Type.BOOLEAN:
        return text == "yes"
    return text
