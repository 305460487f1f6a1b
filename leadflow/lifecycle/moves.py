"""The one stage write: leads' rows, their history (with exit times) and the timeline,
and the hand-off of leads that reach (or jump past) the hand-off stage. A constant number
of queries per call, whatever the number of leads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import Handoff, QualificationReason, StageChange
from leadflow.tracking.models import EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# Score lines a hand-off carries as its reasons, the latest first.
SCORE_LINES = 5


def move(moves: Sequence[tuple[Lead, str]], to_stage: str, *, actor: User | None, via: str,
         cause: str = "", notify: bool = True,
         qualification_reason: QualificationReason | None = None,
         note: str = "") -> list[StageChange]:
    """Move each (lead, reason) to `to_stage`. Leads already there are skipped. The stay in
    the stage a lead leaves gets its exit time; the `stage_changed` event carries `cause`
    and, when the move must not run hand-offs or campaign entries, `"notify": false`."""
    from leadflow.tracking.services import NewEvent, record_events

    # Reasons are free text; PostgreSQL stores no NUL character.
    moves = [(lead, reason.replace("\x00", "")[:300]) for lead, reason in moves
             if lead.stage != to_stage]
    if not moves:
        return []
    note = note.replace("\x00", "")[:500]
    now = clock.now()
    closed = to_stage in stages.closed()
    ids = [lead.pk for lead, _ in moves]
    Lead.objects.filter(pk__in=ids).update(stage=to_stage, is_closed=closed,
                                           stage_changed_at=now, updated_at=now)
    StageChange.objects.filter(lead_id__in=ids, exited_at__isnull=True).update(exited_at=now)
    changes = StageChange.objects.bulk_create([
        StageChange(lead=lead, from_stage=lead.stage, to_stage=to_stage, reason=reason,
                    cause=cause, qualification_reason=qualification_reason, note=note,
                    actor=actor, changed_at=now) for lead, reason in moves])
    extra: dict[str, object] = {"cause": cause} if cause else {}
    if not notify:
        extra["notify"] = False
    if qualification_reason is not None:
        extra["qualification_reason"] = qualification_reason.code
    record_events([NewEvent(type=EventType.STAGE_CHANGED, lead_id=lead.pk,
                            properties={"from": lead.stage, "to": to_stage, "reason": reason,
                                        **extra})
                   for lead, reason in moves], via=via, actor=actor)
    handing = [(lead, reason, change) for (lead, reason), change in zip(moves, changes,
                                                                          strict=True)
               if stages.reaches_handoff(to_stage) and not stages.reaches_handoff(lead.stage)]
    for lead, _reason in moves:
        lead.stage, lead.is_closed, lead.stage_changed_at = to_stage, closed, now
    # Stages an import brings in are history: sales are not told of each imported lead.
    if handing and cause != "import":
        _hand_off(handing, cause=cause, notify=notify, actor=actor, via=via)
    return changes


def _hand_off(handing: list[tuple[Lead, str, StageChange]], *, cause: str, notify: bool,
              actor: User | None, via: str) -> None:
    """Once per lead (until a rejection recycles it): a Handoff row and a `handed_off`
    event with its reasons (the move's reason, then the latest score lines), which the
    notifications app turns into assignment, notification and email."""
    from leadflow.scoring.models import ScoreEntry
    from leadflow.tracking.services import NewEvent, record_events

    ids = [lead.pk for lead, _, _ in handing]
    open_ = set(Handoff.objects.filter(lead_id__in=ids).exclude(
        status=Handoff.Status.REJECTED).values_list("lead_id", flat=True))
    handing = [h for h in handing if h[0].pk not in open_]
    if not handing:
        return
    lines: dict[int, list[dict]] = defaultdict(list)
    for lead_id, reason, points in (ScoreEntry.objects.filter(lead_id__in=ids)
                                    .order_by("lead_id", "-occurred_at", "-id")
                                    .values_list("lead_id", "reason", "points")):
        if len(lines[lead_id]) < SCORE_LINES:
            lines[lead_id].append({"reason": reason, "points": points})
    now = clock.now()
    handoffs = Handoff.objects.bulk_create([
        Handoff(lead=lead, stage_change=change, created_at=now,
                reasons=[{"reason": reason}, *lines.get(lead.pk, [])])
        for lead, reason, change in handing])
    record_events([NewEvent(type=EventType.HANDED_OFF, lead_id=lead.pk, properties={
        "handoff_id": handoff.pk, "to": change.to_stage, "cause": cause, "notify": notify,
        "reasons": handoff.reasons}) for (lead, _, change), handoff in zip(handing, handoffs,
                                                                         strict=True)],
        via=via, actor=actor)
