"""Scores: rules turn events into score entries; a lead's score in a group is the sum of
its entries there (weighted when the group says so).

Each entry says which rule gave how many points for which event, dated at the event's time,
so every score explains itself; the entries are derived state, rebuilt from the events and
the current rules by `rescore` (docs/scoring.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from leadflow.leads.models import Category, Lead
from leadflow.scoring.conditions import matches, validate_conditions
from leadflow.scoring.engine import ENTRY_FIELDS, on_events
from leadflow.scoring.models import ScoreEntry
from leadflow.scoring.rescore import RescoreResult, preview, rescore

__all__ = ["ENTRY_FIELDS", "RescoreResult", "add_points", "explain", "matches", "on_events",
           "on_rows_moved", "preview", "recompute_scores", "rescore", "validate_conditions"]


def add_points(lead: Lead, points: int, reason: str, category: str = Category.ENGAGEMENT, *,
               event_type: str = "points_adjusted", idempotency_key: str | None = None,
               extra: dict | None = None) -> bool:
    """Give (or take) points outside the rules: a campaign step, a manual adjustment.

    The points travel as an event through the pipeline, so they are on the timeline, are
    idempotent by key, and can move the lead's stage like any other points.
    Returns False when the key was already used (nothing changed).
    """
    from leadflow.tracking.services import record_event

    _, created = record_event(event_type, lead=lead, idempotency_key=idempotency_key,
                              properties={**(extra or {}), "points": points,
                                          "reason": reason[:200], "category": category})
    return created


def on_rows_moved(sender: object, *, lead_ids: list[int], **_: object) -> None:
    """leads.signals.rows_moved (a merge or its undo): the events moved with their lead, so
    its entries are rebuilt from them (a "once" rule that both leads met counts once)."""
    rescore(lead_ids=lead_ids, cause="merge", notify=True, all_totals=True)


def recompute_scores(lead_ids: Iterable[int] | None = None) -> int:
    """Rebuild entries and totals from the events and the current rules. Returns the
    number of leads whose score changed."""
    return rescore(lead_ids=lead_ids, cause="rescore", notify=True,
                   all_totals=True).leads_changed


def explain(lead: Lead, limit: int = 50) -> list[ScoreEntry]:
    """The entries behind a lead's score, newest first: the answer to "why is it hot?"."""
    return list(ScoreEntry.objects.filter(lead=lead).order_by("-occurred_at", "-id")[:limit])

