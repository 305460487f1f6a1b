"""A form's questions: which are shown (progressive profiling), their labels in the
visitor's language, and the validation of a posted value by type."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from leadflow.capture import identity
from leadflow.capture.models import Form, FormField
from leadflow.core.addresses import normalise_email
from leadflow.core.errors import InvalidInput
from leadflow.core.params import text
from leadflow.leads.models import BANT_FIELDS, CustomFieldDefinition, Lead, Timing
from leadflow.leads.services import MAX_CUSTOM_TEXT

MAX_VALUE_LENGTH = 2000
TEXT_LENGTH = 500
PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]{4,39}$")
TRUE = {"yes", "on", "true", "1"}


def default_fields(form: Form) -> list[FormField]:
    """What a form without configured fields asks (the original hosted form)."""
    specs = [("email", FormField.Type.EMAIL, True), ("first_name", FormField.Type.TEXT, False),
             ("last_name", FormField.Type.TEXT, False),
             ("company_name", FormField.Type.TEXT, False)]
    return [FormField(form=form, key=key, lead_field=key, type=kind, required=required,
                      position=i) for i, (key, kind, required) in enumerate(specs)]


def all_fields(form: Form) -> list[FormField]:
    fields = list(form.fields.select_related("custom_field").order_by("position", "id"))
    return fields or default_fields(form)


def label(field: FormField, lang: str) -> str:
    """The field's label in `lang`, else English, else any, else the mapped field's name."""
    labels = field.labels if isinstance(field.labels, dict) else {}
    for key in (lang, lang.split("-")[0], "en"):
        if labels.get(key):
            return str(labels[key])
    if labels:
        return str(next(iter(labels.values())))
    if field.lead_field:
        return str(FormField.LeadField(field.lead_field).label)
    if field.custom_field_id and field.custom_field:
        return field.custom_field.label
    return field.key.replace("_", " ").capitalize()


def choices(field: FormField) -> list[str]:
    """The values a select may take (an assessment question's answers, a BANT field's
    yes/no or timing, else the configured choices)."""
    if field.answers:
        return [str(a["value"]) for a in field.answers]
    if field.lead_field in BANT_FIELDS and not field.choices:
        return [value for value, _label in bant_options(field.lead_field)]
    if field.choices:
        return [str(c) for c in field.choices]
    if field.custom_field_id and field.custom_field and field.custom_field.choices:
        return [str(c) for c in field.custom_field.choices]
    return []


def bant_options(name: str) -> list[tuple[str, str]]:
    """A BANT field's answers as a form offers them, labelled in the current language."""
    if name == "timing":
        return [(str(value), str(label)) for value, label in Timing.choices]
    return [("yes", _("Yes")), ("no", _("No"))]


def options(field: FormField, lang: str) -> list[tuple[str, str]]:
    """(value, label) of a select's options, labelled in `lang` where the form knows how
    (call inside translation.override(lang) for the BANT labels)."""
    if field.answers:
        from leadflow.capture.assessment import options as answer_options

        return answer_options(field, lang)
    if field.lead_field in BANT_FIELDS and not field.choices:
        return bant_options(field.lead_field)
    return [(c, c) for c in choices(field)]


def known(field: FormField, lead: Lead) -> bool:
    if field.lead_field in BANT_FIELDS:
        return getattr(lead, field.lead_field) not in (None, "")
    if field.lead_field:
        return bool(getattr(lead, field.lead_field, ""))
    if field.custom_field_id and field.custom_field:
        return lead.custom.get(field.custom_field.key) not in (None, "", [])
    return False


def shown_fields(form: Form, lead: Lead | None) -> list[FormField]:
    """The questions to ask. With progressive profiling and a recognised lead, each field
    already known is replaced by the next unknown progressive question. The email, the
    required phone and hidden fields always stay: they say who answers, hidden fields
    carry UTM."""
    fields = all_fields(form)
    base = [f for f in fields if not f.extra]
    if not (form.progressive_profiling and lead is not None):
        return base
    pending = [f for f in fields if f.extra and not known(f, lead)]
    shown = []
    for field in base:
        keep = (field.lead_field == "email" or identity.identifies(field)
                or field.type == FormField.Type.HIDDEN or not known(field, lead))
        if keep:
            shown.append(field)
        elif pending:
            shown.append(pending.pop(0))
    return shown


def clean_value(field: FormField, raw: Any) -> Any:
    """The posted value as stored (None when empty). Raises InvalidInput naming the field."""
    kind = field.type
    name = field.key
    if kind == FormField.Type.MULTI_SELECT:
        values = raw if isinstance(raw, list) else ([raw] if raw not in (None, "") else [])
        values = [v for v in (text(v, name).strip() for v in values) if v]
        allowed = choices(field)
        for v in values:
            if v not in allowed:
                raise InvalidInput(_("%(value)s is not one of the choices.") % {"value": v[:50]},
                                   field=name)
        if field.required and not values:
            raise InvalidInput(_("Please choose at least one option."), field=name)
        return values or None
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    if kind == FormField.Type.CHECKBOX:
        ticked = raw is True or str(raw or "").strip().lower() in TRUE
        if field.required and not ticked:
            raise InvalidInput(_("Please tick this box."), field=name)
        return ticked
    value = text(raw, name).strip()
    if not value:
        if field.required and kind == FormField.Type.EMAIL:
            raise InvalidInput(_("Please enter your email address."), field=name)
        if field.required:
            raise InvalidInput(_("This field is required."), field=name)
        return None
    limit = MAX_VALUE_LENGTH if kind == FormField.Type.TEXTAREA else TEXT_LENGTH
    if field.custom_field_id:
        limit = min(limit, MAX_CUSTOM_TEXT)
    if len(value) > limit:
        raise InvalidInput(_("This value is longer than %(limit)d characters.")
                           % {"limit": limit}, field=name)
    if kind == FormField.Type.EMAIL:
        return normalise_email(value)
    if kind == FormField.Type.PHONE and not PHONE_RE.match(value):
        raise InvalidInput(_("%(value)s is not a phone number.") % {"value": value[:50]},
                           field=name)
    if kind == FormField.Type.SELECT and value not in choices(field):
        raise InvalidInput(_("%(value)s is not one of the choices.") % {"value": value[:50]},
                           field=name)
    if kind == FormField.Type.NUMBER:
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            raise InvalidInput(_("Please enter a number."), field=name) from None
        if number != number or abs(number) > 1e15:  # NaN or absurd
            raise InvalidInput(_("Please enter a number."), field=name)
        return int(number) if number.is_integer() else number
    if kind == FormField.Type.DATE:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(_("Please enter a date (YYYY-MM-DD)."), field=name) from None
        if len(value) != 10:
            raise InvalidInput(_("Please enter a date (YYYY-MM-DD)."), field=name)
    return value


def to_lead_data(fields: list[FormField], values: dict[str, Any]) -> dict[str, Any]:
    """Map cleaned values onto upsert_lead's data: lead fields, then `custom`."""
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.key)
        if value is None:
            continue
        if field.lead_field in BANT_FIELDS:
            # An unticked box says nothing (unknown), not "no"; upsert reads yes/no texts.
            if value is not False or field.type != FormField.Type.CHECKBOX:
                data[field.lead_field] = value
        elif field.lead_field:
            data[field.lead_field] = ", ".join(value) if isinstance(value, list) else str(value)
        elif field.custom_field_id and field.custom_field:
            custom[field.custom_field.key] = _custom_value(field.custom_field, value)
    if custom:
        data["custom"] = custom
    return data


def _custom_value(definition: CustomFieldDefinition, value: Any) -> Any:
    kind = definition.type
    if kind == CustomFieldDefinition.Type.BOOLEAN:
        return value if isinstance(value, bool) else str(value).lower() in TRUE
    if kind == CustomFieldDefinition.Type.NUMBER and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value  # upsert_lead refuses it with a message naming the field
        return int(number) if number.is_integer() else number
    if isinstance(value, list):
        return ", ".join(value)
    if kind in (CustomFieldDefinition.Type.TEXT, CustomFieldDefinition.Type.CHOICE):
        return str(value)
    return value
