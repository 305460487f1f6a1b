"""How the event types whose properties hold lead values read on the timeline: the
registry is tracking's (tracking.events), the labels of channels, stages and quality flags
are ours. Registered from LeadsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from leadflow.leads.labels import purpose_label, reason_label, source_label
from leadflow.leads.models import Channel, Lead
from leadflow.leads.quality import FLAG_LABELS
from leadflow.leads.stages import Stage
from leadflow.tracking.events import Props, describe_with
from leadflow.tracking.models import EventType


def _created(p: Props) -> str:
    origin = [str(Channel(p["channel"]).label) if p.get("channel") in Channel.values
              else str(p.get("channel") or "")]
    origin += [source_label(str(p["source"]))] if p.get("source") else []
    origin += [str(p[k]) for k in ("medium", "campaign") if p.get(k)]
    return " · ".join(part for part in origin if part)


def _stage(value: Any) -> str:
    return str(Stage(value).label) if value in Stage.values else str(value or "–")


def _flags(p: Props) -> str:
    return ", ".join(str(FLAG_LABELS.get(f, f)) for f in p.get("flags", [])) or _(
        "No problem left")


def _field(name: str, labels: Any = None) -> str:
    """A changed field's name as a person reads it: the column's label, a custom field's
    label when the event kept it, else its key."""
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        return str((labels or {}).get(key) or key) if isinstance(labels, dict | None) else key
    try:
        return str(getattr(Lead._meta.get_field(name), "verbose_name", name))
    except Exception:  # a field since removed: its name still says what it was
        return name


def _edited_title(p: Props) -> str:
    if not isinstance(p.get("values"), dict):
        return _("Profile updated")
    return _("Profile edited: %(fields)s") % {
        "fields": ", ".join(_field(str(n), p.get("labels")) for n in p["values"])}


def _edited_detail(p: Props) -> str:
    values = p.get("values")
    if not isinstance(values, dict):
        fields = ", ".join(map(str, p.get("changed") or []))
        return _("Changed: %(fields)s") % {"fields": fields} if fields else ""
    return " · ".join(f"{_field(str(n), p.get('labels'))}: {_shown(pair, 0)} → "
                      f"{_shown(pair, 1)}"
                      for n, pair in values.items())


def _shown(pair: Any, i: int) -> str:
    value = pair[i] if isinstance(pair, list | tuple) and len(pair) == 2 else None
    return "–" if value in (None, "") else str(value)


def _reason(p: Props) -> str:
    return reason_label(str(p.get("reason") or ""))


def register() -> None:
    describe_with(EventType.LEAD_UPDATED, title=_edited_title, detail=_edited_detail)
    describe_with(EventType.LEAD_CREATED, detail=_created)
    describe_with(EventType.STAGE_CHANGED,
                  title=lambda p: _("Stage: %(from)s → %(to)s") % {
                      "from": _stage(p.get("from")), "to": _stage(p.get("to"))})
    describe_with(EventType.QUALITY_FLAGS_CHANGED, detail=_flags)
    # Reasons Leadflow writes (thresholds, round-robin, campaign ends) in the reader's words.
    for type in (EventType.STAGE_CHANGED, EventType.ASSIGNED, EventType.CAMPAIGN_LEFT,
                 EventType.WON, EventType.LOST):
        describe_with(type, detail=_reason)
    describe_with(EventType.CONSENT_WITHDRAWN,
                  detail=lambda p: purpose_label(str(p.get("purpose") or "")))
