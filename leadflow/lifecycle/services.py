"""Stages: thresholds move leads forward automatically; people move them the rest of the way.

Every change is written to the stage history and to the timeline (a `stage_changed`
event), so campaigns and reports can react to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import may_close_deals
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput
from leadflow.core.pipeline import Batch
from leadflow.leads.models import Lead
from leadflow.leads.stages import AUTOMATIC_FROM, CLOSED, OUTCOME_STAGE, Stage
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# The order in which thresholds may promote a lead (never backwards).
_ORDER = [Stage.LEAD, Stage.NURTURE, Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY]


def on_events(batch: Batch) -> None:
    """Pipeline step: promote leads whose score crossed a stage threshold in this batch.

    Only a crossing promotes: a lead that sales sent back to nurture while its score was
    already above the MQL threshold stays there until it earns its way across again.
    Reads the scores as the batch wrote them (`batch.scored`, rows still locked, so two
    batches promoting the same lead at once record one change): no query but the
    thresholds', and one move per stage reached.
    """
    if not batch.scored:
        return
    thresholds = list(StageThreshold.objects.order_by("-min_score"))
    if not thresholds:
        return
    moves: dict[str, list[tuple[Lead, str]]] = defaultdict(list)
    for lead_id, (stage, score) in sorted(batch.scored.items()):
        if stage not in AUTOMATIC_FROM:
            continue
        before = score - sum(batch.score_deltas[lead_id].values())
        for t in thresholds:
            crossed = before < t.min_score <= score
            if crossed and _rank(t.stage) > _rank(stage):
                lead = Lead(pk=lead_id, stage=stage, score=score)
                moves[t.stage].append(
                    (lead, f"score {score} reached the {t.get_stage_display()} "
                           f"threshold ({t.min_score})"))
                break
    for to_stage, moving in moves.items():
        _move(moving, to_stage, actor=None, via=Event.Via.SYSTEM)


def _rank(stage: str) -> int:
    return _ORDER.index(Stage(stage)) if stage in _ORDER else -1


def _move(moves: Sequence[tuple[Lead, str]], to_stage: str, *, actor: User | None,
          via: str) -> list[StageChange]:
    """Move each (lead, reason) to `to_stage`: the leads' rows, their history and one
    `stage_changed` event each, in a constant number of queries."""
    from leadflow.tracking.services import NewEvent, record_events

    # Reasons are free text; PostgreSQL stores no NUL character.
    moves = [(lead, reason.replace("\x00", "")[:300]) for lead, reason in moves
             if lead.stage != to_stage]
    if not moves:
        return []
    now = clock.now()
    Lead.objects.filter(pk__in=[lead.pk for lead, _ in moves]).update(
        stage=to_stage, is_closed=to_stage in CLOSED, stage_changed_at=now, updated_at=now)
    changes = StageChange.objects.bulk_create([
        StageChange(lead=lead, from_stage=lead.stage, to_stage=to_stage, reason=reason,
                    actor=actor, changed_at=now) for lead, reason in moves])
    record_events([NewEvent(type=EventType.STAGE_CHANGED, lead_id=lead.pk,
                            properties={"from": lead.stage, "to": to_stage, "reason": reason})
                   for lead, reason in moves], via=via, actor=actor)
    for lead, _reason in moves:
        lead.stage, lead.is_closed, lead.stage_changed_at = to_stage, to_stage in CLOSED, now
    return changes


@transaction.atomic
def change_stage(lead: Lead, to_stage: str, *, reason: str = "", actor: User | None = None,
                 via: str | None = None) -> StageChange | None:
    """Move `lead` to `to_stage`, recording history and a timeline event.

    Returns None (and records nothing) when the lead is already in that stage.
    """
    if to_stage not in Stage.values:
        raise InvalidInput(_("Unknown stage %(stage)r.") % {"stage": to_stage}, field="stage")
    via = via or (Event.Via.UI if actor else Event.Via.SYSTEM)
    changes = _move([(lead, reason)], to_stage, actor=actor, via=via)
    return changes[0] if changes else None


@transaction.atomic
def mark_outcome(lead: Lead, outcome: str, *, actor: User | None = None, reason: str = "",
                 via: str | None = None) -> StageChange | None:
    """Record that the deal with `lead` was won or lost: the matching stage (with its
    history), then a `won`/`lost` event (campaigns with that goal let the lead go).
    Marking the outcome the lead already has changes nothing (returns None).
    Precondition: outcome is "won" or "lost"; the actor, if any, works in sales or is an
    admin (deals are sales' to close; marketing reads the outcome)."""
    if outcome not in OUTCOME_STAGE:
        raise InvalidInput(_("Outcome must be 'won' or 'lost'."), field="outcome")
    if actor is not None and not may_close_deals(actor):
        raise Forbidden(_("Only sales reps, sales managers and admins mark deals won or lost."))
    reason = reason.replace("\x00", "")  # as in _move
    from leadflow.tracking.services import record_event

    via = via or (Event.Via.UI if actor else Event.Via.API)
    # The stage first, so that the consumers of the won/lost event see the closed stage.
    change = change_stage(lead, OUTCOME_STAGE[outcome], reason=reason or f"marked {outcome}",
                          actor=actor, via=via)
    if change is not None:
        record_event(outcome, lead=lead, actor=actor, via=via, properties={"reason": reason})
    return change


@transaction.atomic
def change_stages(leads: Sequence[Lead], to_stage: str, *, reason: str = "",
                  actor: User | None = None, via: str = Event.Via.IMPORT) -> int:
    """change_stage for many leads at once (imports), in a constant number of queries.
    Leads already in `to_stage` are skipped. Returns how many moved."""
    if to_stage not in Stage.values:
        raise InvalidInput(_("Unknown stage %(stage)r.") % {"stage": to_stage}, field="stage")
    return len(_move([(lead, reason) for lead in leads], to_stage, actor=actor, via=via))


@transaction.atomic
def mark_outcomes(leads: Sequence[Lead], outcome: str, *, reason: str = "",
                  actor: User | None = None, via: str = Event.Via.IMPORT) -> int:
    """mark_outcome for many leads at once (historical deals brought in by an import): the
    stage with its history, then one `won`/`lost` event each, in a constant number of
    queries. Leads already at that outcome are skipped. No role check: the caller (an
    import by admin or marketing) was authorised for loading data. Returns how many moved."""
    from leadflow.tracking.services import NewEvent, record_events

    if outcome not in OUTCOME_STAGE:
        raise InvalidInput(_("Outcome must be 'won' or 'lost'."), field="outcome")
    reason = reason.replace("\x00", "")
    changes = _move([(lead, reason or f"marked {outcome}") for lead in leads],
                    OUTCOME_STAGE[outcome],
                    actor=actor, via=via)
    record_events([NewEvent(type=outcome, lead_id=c.lead_id, properties={"reason": reason})
                   for c in changes], via=via, actor=actor)
    return len(changes)


def history(lead: Lead) -> list[StageChange]:
    return list(StageChange.objects.filter(lead=lead).select_related("actor"))
