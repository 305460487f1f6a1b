"""Rules in words (the editor's list, the API's `summary`) and what a condition may test:
the properties of known event types, the lead and company attributes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from leadflow.leads.models import Company, CustomFieldDefinition, Lead
from leadflow.scoring.models import OPERATORS, Per, RuleKind, ScoreRule
from leadflow.tracking import events

OPERATOR_LABELS: dict[str, Promise] = {
    "equals": gettext_lazy("is"),
    "contains": gettext_lazy("contains"),
    "starts_with": gettext_lazy("starts with"),
    "one_of": gettext_lazy("is one of"),
    "gt": gettext_lazy("is more than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "exists": gettext_lazy("is set"),
}
assert set(OPERATOR_LABELS) == set(OPERATORS)

# Properties Leadflow itself puts on the events it records (the tracking snippet, forms,
# emails, lifecycle); a customer's own events may carry any other.
EVENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "page_view": ("url", "path", "title", "referrer"),
    "download": ("url",),
    "outbound_click": ("url",),
    "form_submitted": ("form",),
    "newsletter_signup": ("form",),
    "demo_requested": ("form",),
    "optin_confirmed": ("form",),
    "email_opened": ("template", "campaign", "engagement", "machine_reason"),
    "email_clicked": ("url", "template", "campaign", "engagement", "machine_reason"),
    "email_sent": ("template", "subject"),
    "consent_withdrawn": ("purpose",),
    "stage_changed": ("stage", "from", "cause"),
    "assessment_completed": ("form", "score", "band"),
    "lead_created": ("channel", "source"),
}

# Lead columns an attribute rule may test, then the company's ("company.<field>") and
# custom fields ("custom.<key>").
_LEAD_ATTRIBUTES = ("title", "country", "city", "language", "channel", "source", "medium",
                    "campaign", "company_name", "email_domain", "budget", "authority",
                    "need", "timing", "marketing_consent", "contact_data_incorrect")
_COMPANY_ATTRIBUTES = ("name", "domain", "size", "industry", "country")


def field_label(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.verbose_name)


def event_types() -> list[tuple[str, str]]:
    """(type, label) of every declared event type, by label."""
    return sorted(((t, str(spec.label)) for t, spec in events.REGISTRY.items()),
                  key=lambda pair: pair[1].lower())


def attribute_fields() -> list[tuple[str, str]]:
    """(field, label) of what an attribute rule may test."""
    fields = [(name, field_label(Lead, name).capitalize())
              for name in _LEAD_ATTRIBUTES]
    fields.append(("bant_known", _("BANT known (0 to 4)")))
    fields.append(("meets_bant", _("Meets BANT")))
    company = str(Company._meta.verbose_name).capitalize()
    fields += [(f"company.{name}",
                f"{company}: {field_label(Company, name)}")
               for name in _COMPANY_ATTRIBUTES]
    fields += [(f"custom.{d.key}", d.label) for d in CustomFieldDefinition.objects.all()]
    return fields


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return f"“{value}”" if isinstance(value, str) else str(value)


def condition_words(condition: dict[str, Any]) -> str:
    op = condition.get("op", "")
    words = f"{condition.get('field', '?')} {OPERATOR_LABELS.get(op, op)}"
    return words if op == "exists" else f"{words} {_value(condition.get('value'))}"


def conditions_words(rule: ScoreRule) -> str:
    return _(" and ").join(condition_words(c) for c in rule.conditions or ()) or ""


def frequency_words(rule: ScoreRule) -> str:
    if rule.kind == RuleKind.ATTRIBUTE:
        return _("while the lead matches")
    if not rule.max_times:
        return _("every time")
    if rule.max_times == 1 and not rule.per:
        return _("once")
    if not rule.per:
        return ngettext("at most %(n)s time", "at most %(n)s times",
                        rule.max_times) % {"n": rule.max_times}
    per = {Per.DAY: ngettext("at most %(n)s time per day", "at most %(n)s times per day",
                             rule.max_times),
           Per.WEEK: ngettext("at most %(n)s time per week", "at most %(n)s times per week",
                              rule.max_times),
           Per.MONTH: ngettext("at most %(n)s time per month",
                               "at most %(n)s times per month", rule.max_times)}[Per(rule.per)]
    return per % {"n": rule.max_times}


def subject_words(rule: ScoreRule) -> str:
    """What the rule looks at: the event's label, or "lead attributes"."""
    if rule.kind == RuleKind.ATTRIBUTE:
        return _("Lead or company attributes")
    return events.label(rule.event_type)


def summary(rule: ScoreRule) -> str:
    """The rule in one sentence, e.g. "+20 interest for Requested a demo (form is “demo”),
    once"."""
    text = f"{rule.points:+d} {rule.get_category_display()} · {subject_words(rule)}"
    if rule.conditions:
        text += f" ({conditions_words(rule)})"
    return f"{text} · {frequency_words(rule)}"
