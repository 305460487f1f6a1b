"""Scores: rules turn events into score entries; a lead's score is the sum of its entries.

Each entry says which rule gave how many points for which event, so every score explains
itself, and `recompute_scores` rebuilds the totals from the ledger at any time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from leadflow.core import clock
from leadflow.core.pipeline import Batch
from leadflow.core.sqlarrays import builder, bulk_insert
from leadflow.leads.models import CATEGORY_FIELD, Category, Lead
from leadflow.scoring.models import EntryKind, ScoreEntry, ScoreGroup, ScoreRule

ENTRY_FIELDS = ("id", "lead_id", "group_id", "rule_id", "event_id", "kind", "category",
                "points", "reason", "occurred_at", "created_at")
_new_entry = builder(ScoreEntry, ENTRY_FIELDS)

def on_events(batch: Batch) -> None:
    """Pipeline step: apply the active rules to a batch of new events, and turn events that
    carry their own points (campaign steps, manual adjustments) into entries. The entries
    are written here; the lead totals they add up to go in `batch.score_deltas` (the lead
    rows are written once for the whole batch, by leadflow.leads.totals)."""
    from leadflow.tracking.models import EventType

    events = batch.events
    types = {e.type for e in events}
    rules_by_type: dict[str, list[ScoreRule]] = defaultdict(list)
    for rule in ScoreRule.objects.filter(active=True, event_type__in=types,
                                         group__is_primary=True):
        rules_by_type[rule.event_type].append(rule)
    explicit = [e for e in events if e.type in EventType.EXPLICIT_POINTS]
    if not rules_by_type and not explicit:
        return
    primary = (next(iter(rules_by_type.values()))[0].group_id if rules_by_type
               else ScoreGroup.primary().pk)
    once_rule_ids = {r.pk for rules in rules_by_type.values() for r in rules if r.max_times == 1}
    lead_ids = {e.lead_id for e in events if e.lead_id is not None}
    already = set(
        ScoreEntry.objects.filter(rule_id__in=once_rule_ids, lead_id__among=lead_ids)
        .values_list("lead_id", "rule_id")
    ) if once_rule_ids else set()
    now = clock.now()
    entries = []
    for event in events:
        if (lead_id := event.lead_id) is None:  # the pipeline passes known leads only
            continue
        for rule in rules_by_type.get(event.type, ()):
            if not _matches(rule, event.properties):
                continue
            if rule.max_times == 1:
                if (lead_id, rule.pk) in already:
                    continue
                already.add((lead_id, rule.pk))
            # Positional, in ENTRY_FIELDS order (see tracking.services.EVENT_FIELDS).
            entries.append(_new_entry(None, lead_id, primary, rule.pk, event.pk, EntryKind.RULE,
                                      rule.category, rule.points, rule.name,
                                      event.occurred_at, now))
    for event in explicit:
        points = event.properties.get("points")
        category = event.properties.get("category", Category.ENGAGEMENT)
        if isinstance(points, int) and not isinstance(points, bool) and points and (
                category in Category.values) and event.lead_id is not None:
            entries.append(_new_entry(None, event.lead_id, primary, None, event.pk,
                                      EntryKind.POINTS, category, points,
                                      str(event.properties.get("reason", ""))[:200],
                                      event.occurred_at, now))
    if not entries:
        return
    bulk_insert(ScoreEntry, entries, ("lead", "group", "rule", "event", "kind", "category",
                                      "points", "reason", "occurred_at", "created_at"))
    deltas = batch.score_deltas
    for e in entries:
        by_column = deltas.setdefault(e.lead_id, {})
        column = CATEGORY_FIELD[Category(e.category)]
        by_column[column] = by_column.get(column, 0) + e.points


def _matches(rule: ScoreRule, properties: dict) -> bool:
    # Equality only, until the engine's operators land (leadflow.scoring.conditions).
    return all(properties.get(c["field"]) == c.get("value") for c in rule.conditions or ())


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
    """leads.signals.rows_moved (a merge or its undo): the totals follow the ledger."""
    recompute_scores(lead_ids)


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
    return list(ScoreEntry.objects.filter(lead=lead).order_by("-occurred_at", "-id")[:limit])

