"""Stages by hand: any move, forward or backward, with its actor and reason; sales accept or
reject a hand-off; disqualification with a reason; deals won or lost. Rules move leads in
`lifecycle.transitions`; every move is written by `lifecycle.moves.move`.

Every change is written to the stage history and to the timeline (a `stage_changed`
event), so campaigns and reports can react to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import may_close_deals, may_decide_handoff, may_move_stage
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, contains_nul
from leadflow.leads.models import CATEGORY_FIELD, Category, Lead
from leadflow.leads.stages import OUTCOME_STAGE, Stage
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import Handoff, QualificationReason, StageChange, StageDefinition
from leadflow.lifecycle.moves import move as _move
from leadflow.lifecycle.transitions import on_events, on_scores_rebuilt
from leadflow.tracking.models import Event

if TYPE_CHECKING:
    from leadflow.accounts.models import User

__all__ = ["accept_handoff", "change_stage", "change_stages", "disqualify", "history",
           "mark_outcome", "mark_outcomes", "on_events", "on_scores_rebuilt",
           "reject_handoff"]


def _check_stage(to_stage: str) -> StageDefinition:
    definition = stages.get(to_stage)
    if definition is None:
        raise InvalidInput(_("Unknown stage %(stage)r.") % {"stage": to_stage}, field="stage")
    return definition


def _check_move(lead: Lead, to_stage: str, actor: User | None) -> None:
    if actor is None:
        return
    marketing = StageDefinition.Team.MARKETING
    here, there = stages.get(lead.stage), stages.get(to_stage)
    between = (here is None or here.owned_by == marketing) and (
        there is not None and there.owned_by == marketing)
    if not may_move_stage(actor, owner_id=lead.owner_id, team_id=lead.team_id,
                          between_marketing_stages=between):
        raise Forbidden(_("You may not move this lead to that stage."))


@transaction.atomic
def change_stage(lead: Lead, to_stage: str, *, reason: str = "", actor: User | None = None,
                 via: str | None = None, cause: str = "manual",
                 qualification_reason: QualificationReason | None = None,
                 note: str = "") -> StageChange | None:
    """Move `lead` to any defined stage, forward or backward, recording history (with the
    actor, the reason and the cause) and a timeline event. A person may move the leads of
    their scope; marketing only between marketing's stages.

    Returns None (and records nothing) when the lead is already in that stage.
    """
    definition = _check_stage(to_stage)
    _check_move(lead, to_stage, actor)
    via = via or (Event.Via.UI if actor else Event.Via.SYSTEM)
    changes = _move([(lead, reason)], to_stage, actor=actor, via=via,
                    cause=cause if actor else "", qualification_reason=qualification_reason,
                    note=note)
    if changes and actor is not None and definition.owned_by == StageDefinition.Team.SALES:
        # Sales taking the lead on by hand accept its hand-off.
        Handoff.objects.filter(lead=lead, status=Handoff.Status.PENDING).update(
            status=Handoff.Status.ACCEPTED, decided_at=clock.now(), decided_by=actor)
    return changes[0] if changes else None


def _reason(code: str, note: str) -> QualificationReason:
    # A NUL cannot be a reason's code (PostgreSQL stores none): not one of the list.
    reason = None if contains_nul(code) else QualificationReason.objects.filter(
        code=code, active=True).first()
    if reason is None:
        raise InvalidInput(_("Choose a reason from the list."), field="reason")
    if reason.needs_note and not note.strip():
        raise InvalidInput(_("Say why in the note."), field="note")
    return reason


def _open_handoff(lead: Lead) -> Handoff:
    handoff = Handoff.objects.filter(lead=lead, status=Handoff.Status.PENDING).first()
    if handoff is None:
        raise Conflict(_("This lead is not waiting for sales to accept it."))
    return handoff


def _check_decider(lead: Lead, actor: User) -> None:
    if not may_decide_handoff(actor, owner_id=lead.owner_id, team_id=lead.team_id):
        raise Forbidden(_("Only the lead's owner, a sales manager or an admin accepts or "
                          "rejects a hand-off."))


@transaction.atomic
def accept_handoff(lead: Lead, *, actor: User) -> StageChange:
    """Sales accept the lead handed to them: it moves to SAL (sales accepted)."""
    _check_decider(lead, actor)
    handoff = _open_handoff(lead)
    if lead.stage == Stage.SAL:
        raise Conflict(_("This lead is already accepted by sales."))
    Handoff.objects.filter(pk=handoff.pk).update(status=Handoff.Status.ACCEPTED,
                                                 decided_at=clock.now(), decided_by=actor)
    [change] = _move([(lead, "Accepted by sales")], Stage.SAL, actor=actor, via=_via(actor),
                     cause="manual")
    return change


@transaction.atomic
def reject_handoff(lead: Lead, *, actor: User, reason: str, note: str = "") -> StageChange:
    """Sales reject the lead handed to them, with a reason from the list (and a note when
    the reason asks for one): back to nurture, the score reset as the hand-off stage says
    (points through the pipeline, so the reset is on the timeline and explains itself).
    The lead is handed off again only after it qualifies again, on an event of its own."""
    _check_decider(lead, actor)
    code = _reason(reason, note)
    handoff = _open_handoff(lead)
    Handoff.objects.filter(pk=handoff.pk).update(
        status=Handoff.Status.REJECTED, decided_at=clock.now(), decided_by=actor,
        qualification_reason=code, note=note.replace("\x00", "")[:500])
    [change] = _move([(lead, f"Rejected by sales: {code.label_en}")], Stage.NURTURE,
                     actor=actor, via=_via(actor), cause="rejection",
                     qualification_reason=code, note=note)
    _reset_score(lead, handoff)
    return change


def _reset_score(lead: Lead, handoff: Handoff) -> None:
    from leadflow.scoring.services import add_points

    definition = stages.handoff_stage()
    reset = definition.reject_reset if definition else ""
    if not reset:
        return
    lead.refresh_from_db(fields=["score", *CATEGORY_FIELD.values()])
    categories = (Category.values if reset == StageDefinition.Reset.ALL
                  else [Category.ENGAGEMENT])
    for category in categories:
        points = getattr(lead, CATEGORY_FIELD[Category(category)])
        if points:
            add_points(lead, -points, "Hand-off rejected: score reset", category,
                       idempotency_key=f"handoff-reset:{handoff.pk}:{category}")


@transaction.atomic
def disqualify(lead: Lead, *, actor: User | None, reason: str, note: str = "",
               via: str | None = None) -> StageChange | None:
    """Disqualify `lead` with a reason from the list (and a note when it asks for one)."""
    code = _reason(reason, note)
    return change_stage(lead, Stage.DISQUALIFIED, reason=f"Disqualified: {code.label_en}",
                        actor=actor, via=via, qualification_reason=code, note=note)


def _via(actor: User | None) -> str:
    return Event.Via.UI if actor else Event.Via.SYSTEM


@transaction.atomic
def mark_outcome(lead: Lead, outcome: str, *, actor: User | None = None, reason: str = "",
                 via: str | None = None, cause: str | None = None) -> StageChange | None:
    """Record that the deal with `lead` was won or lost: the matching stage (with its
    history), then a `won`/`lost` event (campaigns with that goal let the lead go).
    Marking the outcome the lead already has changes nothing (returns None).
    Precondition: outcome is "won" or "lost"; the actor, if any, works in sales or is an
    admin (deals are sales' to close; marketing reads the outcome). `cause` names what
    closed it in the history ("opportunity"); by default "manual" for a person."""
    if outcome not in OUTCOME_STAGE:
        raise InvalidInput(_("Outcome must be 'won' or 'lost'."), field="outcome")
    if actor is not None and not may_close_deals(actor):
        raise Forbidden(_("Only sales reps, sales managers and admins mark deals won or lost."))
    reason = reason.replace("\x00", "")  # as in move
    from leadflow.tracking.services import record_event

    via = via or (Event.Via.UI if actor else Event.Via.API)
    # The stage first, so that the consumers of the won/lost event see the closed stage.
    changes = _move([(lead, reason or f"marked {outcome}")], OUTCOME_STAGE[outcome],
                    actor=actor, via=via,
                    cause=cause if cause is not None else ("manual" if actor else ""))
    if changes:
        record_event(outcome, lead=lead, actor=actor, via=via, properties={"reason": reason})
    return changes[0] if changes else None


@transaction.atomic
def change_stages(leads: Sequence[Lead], to_stage: str, *, reason: str = "",
                  actor: User | None = None, via: str = Event.Via.IMPORT,
                  cause: str = "import") -> int:
    """change_stage for many leads at once (an import, a campaign step), in a constant
    number of queries. Leads already in `to_stage` are skipped. Returns how many moved.
    An import's moves are history (no hand-off); another cause hands off as usual."""
    _check_stage(to_stage)
    return len(_move([(lead, reason) for lead in leads], to_stage, actor=actor, via=via,
                     cause=cause))


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
                    OUTCOME_STAGE[outcome], actor=actor, via=via, cause="import")
    record_events([NewEvent(type=outcome, lead_id=c.lead_id, properties={"reason": reason})
                   for c in changes], via=via, actor=actor)
    return len(changes)


def history(lead: Lead) -> list[StageChange]:
    return list(StageChange.objects.filter(lead=lead).select_related("actor",
                                                                     "qualification_reason"))


def pending_handoff(lead: Lead) -> Handoff | None:
    return Handoff.objects.filter(lead=lead, status=Handoff.Status.PENDING).first()


def edit_stage(definition: StageDefinition, values: dict, *, actor: User) -> StageDefinition:
    """Change a stage's names, definitions and flags (admins and marketing)."""
    from leadflow.accounts.permissions import CHANGE, may

    if not may(actor, CHANGE, "stages"):
        raise Forbidden(_("Only admins and marketing edit stages."))
    for name, value in values.items():
        setattr(definition, name, value)
    definition.save()
    return definition
