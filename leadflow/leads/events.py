"""How the event types whose properties hold lead values read on the timeline: the
registry is tracking's (tracking.events), the labels of channels, stages and quality flags
are ours. Registered from LeadsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from leadflow.leads.labels import purpose_label, reason_label, source_label
from leadflow.leads.models import Channel
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


def _reason(p: Props) -> str:
    return reason_label(str(p.get("reason") or ""))


def register() -> None:
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
