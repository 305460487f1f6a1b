"""Scores: rules turn events into score entries; a lead's score is the sum of its entries.

Each entry says which rule gave how many points for which event, so every score explains
itself, and `recompute_scores` rebuilds the totals from the ledger at any time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.scoring.models import Category, ScoreEntry, ScoreRule

if TYPE_CHECKING:
    from leadflow.tracking.models import Event

_CATEGORY_FIELD = {
    Category.FIT: "fit_score",
    Category.ENGAGEMENT: "engagement_score",
    Category.INTEREST: "interest_score",
}


def on_events(events: Sequence[Event]) -> None:
    """Pipeline consumer: apply the active rules to a batch of new events."""
    types = {e.type for e in events}
    rules_by_type: dict[str, list[ScoreRule]] = defaultdict(list)
    for rule in ScoreRule.objects.filter(active=True, event_type__in=types):
        rules_by_type[rule.event_type].append(rule)
    if not rules_by_type:
        return
    once_rule_ids = {r.pk for rules in rules_by_type.values() for r in rules if r.once_per_lead}
    lead_ids = {e.lead_id for e in events}
    already = set(
        ScoreEntry.objects.filter(rule_id__in=once_rule_ids, lead_id__in=lead_ids)
        .values_list("lead_id", "rule_id")
    ) if once_rule_ids else set()
    now = clock.now()
    entries = []
    for event in events:
        for rule in rules_by_type.get(event.type, ()):
            if not rule.matches(event.properties):
                continue
            if rule.once_per_lead:
                if (event.lead_id, rule.pk) in already:
                    continue
                already.add((event.lead_id, rule.pk))
            entries.append(ScoreEntry(lead_id=event.lead_id, rule=rule, event=event,
                                      category=rule.category, points=rule.points,
                                      reason=rule.name, created_at=now))
    _apply(entries)


def add_points(lead: Lead, points: int, reason: str,
               category: str = Category.ENGAGEMENT, event: Event | None = None) -> ScoreEntry:
    """Give (or take) points outside the rules: a campaign step, a manual adjustment."""
    entry = ScoreEntry(lead=lead, category=category, points=points, reason=reason[:200],
                       event=event, created_at=clock.now())
    _apply([entry])
    return entry


@transaction.atomic
def _apply(entries: list[ScoreEntry]) -> None:
    if not entries:
        return
    ScoreEntry.objects.bulk_create(entries)
    deltas: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in entries:
        deltas[e.lead_id][_CATEGORY_FIELD[Category(e.category)]] += e.points
    # Relative updates (F + delta) stay right under concurrent writers. Leads that gain the
    # same points share one UPDATE, so a batch of similar events costs a few queries, not
    # one per lead.
    groups: dict[tuple[tuple[str, int], ...], list[int]] = defaultdict(list)
    for lead_id, by_field in deltas.items():
        groups[tuple(sorted(by_field.items()))].append(lead_id)
    for delta, lead_ids in groups.items():
        total = sum(points for _, points in delta)
        updates = {name: F(name) + points for name, points in delta}
        Lead.objects.filter(pk__in=lead_ids).update(score=F("score") + total, **updates)


def recompute_scores(lead_ids: Iterable[int] | None = None) -> int:
    """Rebuild score totals from the ledger, set-based. Returns the number of leads."""
    def total(category: str | None) -> Coalesce:
        entries = ScoreEntry.objects.filter(lead=OuterRef("pk"))
        if category:
            entries = entries.filter(category=category)
        sums = entries.values("lead").annotate(s=Sum("points")).values("s")
        return Coalesce(Subquery(sums, output_field=IntegerField()), Value(0))

    leads = Lead.objects.all()
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    return leads.update(
        score=total(None),
        fit_score=total(Category.FIT),
        engagement_score=total(Category.ENGAGEMENT),
        interest_score=total(Category.INTEREST),
    )


def explain(lead: Lead, limit: int = 50) -> list[ScoreEntry]:
    """The entries behind a lead's score, newest first: the answer to "why is it hot?"."""
    return list(ScoreEntry.objects.filter(lead=lead).select_related("event", "rule")
                .order_by("-created_at", "-id")[:limit])


def points_by_category(lead: Lead) -> dict[str, int]:
    return {c.value: getattr(lead, _CATEGORY_FIELD[c]) for c in Category}

