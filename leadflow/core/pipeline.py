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
    # Set by scoring: lead id -> {score column: points gained (or lost) in this batch}.
    score_deltas: dict[int, dict[str, int]] = field(default_factory=dict)
    # Set by the lead write, for the leads that gained points: lead id -> (stage, score)
    # as written, the rows locked until the transaction ends.
    scored: dict[int, tuple[str, int]] = field(default_factory=dict)


@cache
def _steps() -> tuple[Callable[[Batch], None], ...]:
    return tuple(import_string(path) for path in STEPS)


def dispatch(events: Sequence[Event]) -> None:
    """Hand newly stored events (of known leads) to every step. Precondition: inside the
    transaction that stored them."""
    known = [e for e in events if e.lead_id is not None]
    if not known:
        return
    batch = Batch(known)
    for step in _steps():
        step(batch)
