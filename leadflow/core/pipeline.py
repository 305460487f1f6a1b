"""The one event pipeline: every stored event is handed to the same consumers, in order.

Scoring runs first (it changes the score), lifecycle second (it reads the score against
the stage thresholds), campaigns last (they react to both). Consumers receive a list of
freshly stored events so that each can work set-based on a batch; they must tolerate
events whose lead was deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from leadflow.tracking.models import Event

CONSUMERS = (
    "leadflow.scoring.services.on_events",
    "leadflow.lifecycle.services.on_events",
    "leadflow.campaigns.services.on_events",
)


@cache
def _consumers() -> tuple[Callable[[Sequence[Event]], None], ...]:
    return tuple(import_string(path) for path in CONSUMERS)


def dispatch(events: Sequence[Event]) -> None:
    """Hand newly stored events (of known leads) to every consumer."""
    known = [e for e in events if e.lead_id is not None]
    if not known:
        return
    for consumer in _consumers():
        consumer(known)
