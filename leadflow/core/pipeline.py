"""The one event pipeline: every stored batch of events is handed to the same steps, in
order, as one `Batch` that each step reads and adds to.

The steps are wired by the composing layer (`leadflow.server.apps`), since core names no
app: scoring first (it writes the ledger and says how many points each lead gained), then
the lead rows are written once (last touch and score totals together), then lifecycle
(it reads the new scores against the stage thresholds), campaigns last (they react to
both). Steps work set-based on the whole batch and must tolerate events whose lead was
deleted meanwhile.

Steps may record events themselves (a stage change, an enrolment, an assignment). Those
are stored at once, in the same transaction, but dispatched breadth-first: as a follow-up
batch once every step of the current batch has run, so a later step of the current batch
never sees the world after a reaction it has not yet made. Follow-ups chain until none is
left; a cascade deeper than MAX_DEPTH batches stops and is handed to the halt recorder
(tracking puts `pipeline_halted` on the timeline).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

if TYPE_CHECKING:
    from leadflow.leads.models import Lead
    from leadflow.tracking.models import Event

# Batches in one cascade (the first included). Consumers record an event only when
# something changed, so a real cascade is short; one this deep is a loop between rules.
MAX_DEPTH = 8

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Newly stored events of known leads, and what the steps found out about them."""

    events: Sequence[Event]
    # Leads the caller created with reserved ids (sqlarrays.reserve_ids) and has not
    # written: the lead write inserts them with their points, so a new row is written
    # once (an UPDATE right after the insert rewrote it and its every index entry).
    new_leads: dict[int, Lead] = field(default_factory=dict)
    # Set by scoring: lead id -> {score column: points gained (or lost) in this batch}.
    score_deltas: dict[int, dict[str, int]] = field(default_factory=dict)
    # Set by the lead write, for the leads that gained points: lead id -> (stage, score)
    # as written, the rows locked until the transaction ends.
    scored: dict[int, tuple[str, int]] = field(default_factory=dict)
    # Set by scoring, for the score groups other than the primary one (whose score is on
    # the lead row, above): lead id -> {group id: (total before, total after)}.
    group_scores: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    # Set by scoring when it found points: how the lead write totals the primary group,
    # (fit, engagement, interest weights, grade A, B, C cut-offs in fit points).
    score_formula: tuple[int, int, int, int, int, int] | None = None


@dataclass
class _FollowUp:
    events: list[Event]
    new_leads: list[Lead]
    # Registered with on_commit while queued: Django drops it when a savepoint around the
    # recording rolls back, and so do we (those events are no longer stored).
    marker: Callable[[], None] | None


# The follow-ups of the cascade being dispatched in this thread (None: none is).
_follow_ups: ContextVar[list[_FollowUp] | None] = ContextVar("pipeline_follow_ups",
                                                             default=None)


# Set once at start-up (configure, set_halt_recorder), read on every batch.
_steps: tuple[Callable[[Batch], None], ...] = ()
_halt_recorder: Callable[[list[int], list[str], int], None] | None = None


def configure(steps: Sequence[Callable[[Batch], None]]) -> None:
    """Set the steps, in the order they run (the server app does it in ready())."""
    global _steps
    _steps = tuple(steps)


def set_halt_recorder(record: Callable[[list[int], list[str], int], None]) -> None:
    """`record(lead_ids, event_types, depth)` puts a halted cascade on those leads'
    timelines (tracking sets it: core knows no event store)."""
    global _halt_recorder
    _halt_recorder = record


def dispatch(events: Sequence[Event], new_leads: Sequence[Lead] = ()) -> None:
    """Hand newly stored events (of known leads) to every step, with the `new_leads` to
    write (see Batch); called while a batch is being dispatched, queue them as a follow-up
    instead. Precondition: inside the transaction that stored them."""
    known = [e for e in events if e.lead_id is not None]
    if not known and not new_leads:
        return
    if any(lead.pk is None for lead in new_leads):
        raise ValueError("new leads need their reserved ids (sqlarrays.reserve_ids)")
    queue = _follow_ups.get()
    if queue is not None:
        queue.append(_FollowUp(known, list(new_leads), _mark()))
        return
    queue = []
    token = _follow_ups.set(queue)
    try:
        _run(known, list(new_leads))
        for _depth in range(1, MAX_DEPTH):
            pending = _still_stored(queue)
            queue.clear()
            if not pending:
                return
            _run([e for f in pending for e in f.events],
                 [lead for f in pending for lead in f.new_leads])
        if pending := _still_stored(queue):
            queue.clear()
            _halt([e for f in pending for e in f.events])
    finally:
        _follow_ups.reset(token)
        if queue:  # the halting events, or those of a failed cascade: only unmark them
            _still_stored(queue)


def _run(events: list[Event], new_leads: list[Lead]) -> None:
    if not _steps:
        # Without the server app nothing would be scored or staged, silently.
        raise ImproperlyConfigured("no pipeline steps: is leadflow.server in INSTALLED_APPS?")
    batch = Batch(events, new_leads={lead.pk: lead for lead in new_leads})
    for step in _steps:
        step(batch)


def _mark() -> Callable[[], None] | None:
    if not transaction.get_connection().in_atomic_block:
        return None

    def marker() -> None:
        pass

    transaction.on_commit(marker)
    return marker


def _still_stored(queue: list[_FollowUp]) -> list[_FollowUp]:
    """The follow-ups whose savepoint (if any) was not rolled back. Their markers are
    taken off the on-commit list, whose callbacks callers count and run."""
    markers = {id(f.marker) for f in queue if f.marker is not None}
    if not markers:
        return list(queue)
    # Django keeps (savepoint ids, callback, robust) per on_commit callback and removes
    # those of a rolled-back savepoint.
    callbacks = transaction.get_connection().run_on_commit
    live = {id(entry[1]) for entry in callbacks}
    callbacks[:] = [entry for entry in callbacks if id(entry[1]) not in markers]
    return [f for f in queue if f.marker is None or id(f.marker) in live]


def _halt(events: list[Event]) -> None:
    """Stop a runaway cascade: log it and put it on the timeline of the leads involved.
    The halting events are stored but not dispatched (the queue is dropped after)."""
    types = sorted({e.type for e in events})
    lead_ids = sorted({e.lead_id for e in events if e.lead_id is not None})
    log.error("event pipeline halted after %d batches: events %s of leads %s still "
              "recorded (rules reacting to each other?)", MAX_DEPTH, types, lead_ids)
    if _halt_recorder is not None:
        _halt_recorder(lead_ids, types, MAX_DEPTH)
