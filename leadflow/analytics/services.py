"""Reports: lead volume by source and stage, and conversion, for the leads a user sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q

from leadflow.leads.stages import Stage

if TYPE_CHECKING:
    from leadflow.accounts.models import User


@dataclass
class SourceRow:
    source: str
    leads: int
    won: int
    lost: int

    @property
    def conversion_rate(self) -> float:
        return self.won / self.leads if self.leads else 0.0


@dataclass
class Summary:
    total: int
    won: int
    lost: int
    by_stage: list[tuple[str, str, int]]
    by_source: list[SourceRow]

    @property
    def conversion_rate(self) -> float:
        """Won leads over all leads."""
        return self.won / self.total if self.total else 0.0


def summary(user: User) -> Summary:
    """Leads per stage and per source with conversion rates (two grouped queries)."""
    from leadflow.leads.services import visible_leads

    leads = visible_leads(user)
    stage_counts = dict(leads.values_list("stage").annotate(n=Count("id")).order_by())
    by_stage = [(s.value, str(s.label), stage_counts.get(s.value, 0)) for s in Stage]
    rows = (leads.values("source").annotate(
        n=Count("id"), won=Count("id", filter=Q(stage=Stage.CUSTOMER)),
        lost=Count("id", filter=Q(stage=Stage.LOST))).order_by("-n", "source"))
    by_source = [SourceRow(r["source"] or "", r["n"], r["won"], r["lost"]) for r in rows]
    total = sum(stage_counts.values())
    return Summary(total=total, won=stage_counts.get(Stage.CUSTOMER, 0),
                   lost=stage_counts.get(Stage.LOST, 0), by_stage=by_stage,
                   by_source=by_source)
