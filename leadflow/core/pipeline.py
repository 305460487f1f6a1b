"""The one event pipeline: every stored batch of events is handed to the same steps, in
order, as one `Batch` that each step reads and adds to.

Scoring runs first (it writes the ledger and says how many points each lead gained), then
the lead rows are written once (last touch and score totals together), then lifecycle
(it reads the new scores against the stage thresholds), campaigns last (they react to
both). Steps work set-based on the whole batch and must tolerate events whose lead was
deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from leadflow.leads.models import Lead
    from leadflow.tracking.models import Event

STEPS = (
    "leadflow.scoring.services.on_events",
    "leadflow.leads.totals.on_events",
    "leadflow.lifecycle.services.on_events",
    "leadflow.campaigns.services.on_events",
)


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


@cache
def _steps() -> tuple[Callable[[Batch], None], ...]:
    return tuple(import_string(path) for path in STEPS)


def dispatch(events: Sequence[Event], new_leads: Sequence[Lead] = ()) -> None:
    """Hand newly stored events (of known leads) to every step, with the `new_leads` to
    write (see Batch). Precondition: inside the transaction that stored them."""
    known = [e for e in events if e.lead_id is not None]
    if not known and not new_leads:
        return
    if any(lead.pk is None for lead in new_leads):
        raise ValueError("new leads need their reserved ids (sqlarrays.reserve_ids)")
    batch = Batch(known, new_leads={lead.pk: lead for lead in new_leads})
    for step in _steps():
        step(batch)
