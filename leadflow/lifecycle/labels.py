"""The reasons lifecycle writes in English (stage history, timeline), in the reader's words
(leads.labels.reason_label; leads stands below lifecycle)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from leadflow.lifecycle.models import QualificationReason
from leadflow.tracking.events import describe_with
from leadflow.tracking.models import EventType


def _code_label(english: str) -> str:
    reason = QualificationReason.objects.filter(label_en=english).first()
    return reason.label if reason else english


def register() -> None:
    from leadflow.leads.labels import _stage_label, register_reason

    register_reason(r"grade ([A-D]) reached the (.+) threshold \(([A-D])\)",
                    lambda m: _("grade %(grade)s reached the %(stage)s threshold (%(min)s)")
                    % {"grade": m[1], "stage": _stage_label(m[2]), "min": m[3]})
    register_reason(r"BANT met", lambda m: _("BANT met"))
    register_reason(r"consumed high-intent content: (.+)",
                    lambda m: _("consumed high-intent content: %(what)s") % {"what": m[1]})
    register_reason(r"event: (.+)", lambda m: _("event: %(type)s") % {"type": m[1]})
    register_reason(r"Disqualified: (.+)",
                    lambda m: _("Disqualified: %(reason)s") % {"reason": _code_label(m[1])})
    register_reason(re.escape("Hand-off rejected: score reset"),
                    lambda m: _("Hand-off rejected: score reset"))
    describe_with(EventType.HANDED_OFF, detail=_handoff_reasons)


def _handoff_reasons(p: dict) -> str:
    from leadflow.leads.labels import reason_label

    return " · ".join(reason_label(str(r.get("reason", "")))
                      for r in (p.get("reasons") or [])[:3] if isinstance(r, dict))
