"""Stages: thresholds move leads forward automatically; people move them the rest of the way.

Every change is written to the stage history and to the timeline (a `stage_changed`
event), so campaigns and reports can react to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from leadflow.core import clock
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.lifecycle.stages import AUTOMATIC_FROM, Stage
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# The order in which thresholds may promote a lead (never backwards).
_ORDER = [Stage.NEW, Stage.NURTURE, Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY]


def on_events(events: Sequence[Event]) -> None:
    """Pipeline consumer: promote leads whose score crossed a stage threshold."""
    thresholds = list(StageThreshold.objects.order_by("-min_score"))
    if not thresholds:
        return
    lead_ids = {e.lead_id for e in events if e.type != EventType.STAGE_CHANGED}
    leads = Lead.objects.filter(pk__in=lead_ids, stage__in=AUTOMATIC_FROM)
    for lead in leads:
        for t in thresholds:
            if lead.score >= t.min_score and _rank(t.stage) > _rank(lead.stage):
                change_stage(lead, t.stage,
                             reason=f"score {lead.score} reached the {t.get_stage_display()} "
                                    f"threshold ({t.min_score})")
                break


def _rank(stage: str) -> int:
    return _ORDER.index(Stage(stage)) if stage in _ORDER else -1


@transaction.atomic
def change_stage(lead: Lead, to_stage: str, *, reason: str = "",
                 actor: User | None = None) -> StageChange | None:
    """Move `lead` to `to_stage`, recording history and a timeline event.

    Returns None (and records nothing) when the lead is already in that stage.
    """
    if to_stage not in Stage.values:
        raise InvalidInput(f"Unknown stage {to_stage!r}.", field="stage")
    from_stage = lead.stage
    if from_stage == to_stage:
        return None
    now = clock.now()
    Lead.objects.filter(pk=lead.pk).update(stage=to_stage, stage_changed_at=now, updated_at=now)
    lead.stage, lead.stage_changed_at = to_stage, now
    change = StageChange.objects.create(lead=lead, from_stage=from_stage, to_stage=to_stage,
                                        reason=reason[:300], actor=actor, changed_at=now)
    from leadflow.tracking.services import record_event

    record_event(EventType.STAGE_CHANGED, lead=lead, actor=actor,
                 via=Event.Via.UI if actor else Event.Via.SYSTEM,
                 properties={"from": from_stage, "to": to_stage, "reason": reason[:300]})
    return change


@transaction.atomic
def mark_outcome(lead: Lead, outcome: str, *, actor: User | None = None,
                 reason: str = "") -> StageChange | None:
    """Record that the deal with `lead` was won or lost (a `won`/`lost` event, then the
    matching stage). Precondition: outcome is "won" or "lost"."""
    if outcome not in (Stage.WON, Stage.LOST):
        raise InvalidInput("Outcome must be 'won' or 'lost'.", field="outcome")
    from leadflow.tracking.services import record_event

    record_event(outcome, lead=lead, actor=actor,
                 via=Event.Via.UI if actor else Event.Via.API, properties={"reason": reason})
    return change_stage(lead, outcome, reason=reason or f"marked {outcome}", actor=actor)


def history(lead: Lead) -> list[StageChange]:
    return list(StageChange.objects.filter(lead=lead).select_related("actor"))
