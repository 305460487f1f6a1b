"""Incremental scoring: the pipeline step that turns a batch of new events into score
entries, with every active rule of every group, in event-time order.

A constant number of queries per batch, whatever its size (counted in
tests/test_scoring_queries.py): the rules; the groups (only when something matched); for
capped rules the entries already counting in the batch's periods; for attribute rules the
leads' values and their attribute entries; one insert, one delete; the group scores.

An event older than what its lead already had scored for a capped rule (an import of
history, a merge, an identify) is *late*: counting it in place would not give what an
in-order arrival gives, so its lead is left out here and re-scored from its events at the
end of the batch (leadflow.scoring.rescore).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.db.models import Q

from leadflow.core import clock
from leadflow.core.pipeline import Batch
from leadflow.core.sqlarrays import builder, bulk_insert, int_array
from leadflow.leads.models import CATEGORY_FIELD, Category, Lead
from leadflow.scoring import groups as g
from leadflow.scoring.conditions import lead_row_fields, lead_values, matches, values_of_lead
from leadflow.scoring.models import EntryKind, RuleKind, ScoreEntry, ScoreGroup, ScoreRule

ENTRY_FIELDS = ("id", "lead_id", "group_id", "rule_id", "event_id", "kind", "category",
                "points", "reason", "occurred_at", "created_at")
WRITTEN = ("lead", "group", "rule", "event", "kind", "category", "points", "reason",
           "occurred_at", "created_at")
_new_entry = builder(ScoreEntry, ENTRY_FIELDS)

# Events after which a lead's attributes may have changed: attribute rules re-evaluate.
ATTRIBUTE_TRIGGERS = frozenset({"lead_created", "lead_updated", "merged", "merge_undone",
                                "quality_flags_changed"})


def explicit_points(properties: dict) -> tuple[int, str, str] | None:
    """(points, category, reason) of an event carrying its own points, if valid. The SQL
    twin is rescore.EXPLICIT_SQL."""
    points = properties.get("points")
    category = properties.get("category", Category.ENGAGEMENT)
    if not isinstance(points, int) or isinstance(points, bool) or not points:
        return None
    if not isinstance(category, str) or category not in Category.values:
        return None
    reason = properties.get("reason")
    return points, category, reason[:200] if isinstance(reason, str) else ""


def on_events(batch: Batch) -> None:
    """Pipeline step (see the module docstring). The entries are written here; what they
    add to the primary group goes in `batch.score_deltas` (the lead rows are written once
    for the whole batch, by leadflow.leads.totals), the other groups' scores are written
    here and noted in `batch.group_scores`."""
    from leadflow.tracking.models import EventType

    events = sorted((e for e in batch.events if e.lead_id is not None),
                    key=lambda e: (e.occurred_at, e.pk))
    types = {e.type for e in events}
    wanted = Q(kind=RuleKind.EVENT, event_type__in=types)
    if types & ATTRIBUTE_TRIGGERS:
        wanted |= Q(kind=RuleKind.ATTRIBUTE)
    rules = list(ScoreRule.objects.filter(wanted, active=True).order_by("pk"))
    explicit = [e for e in events if e.type in EventType.EXPLICIT_POINTS]
    by_type: dict[str, list[ScoreRule]] = defaultdict(list)
    for rule in rules:
        if rule.kind == RuleKind.EVENT:
            by_type[rule.event_type].append(rule)
    matched = [(e, r) for e in events for r in by_type.get(e.type, ())
               if g.in_window(r, e.occurred_at) and matches(r.conditions, e.properties)]
    attribute_rules = [r for r in rules if r.kind == RuleKind.ATTRIBUTE]
    triggered: dict[int, datetime] = {}
    if attribute_rules:
        for e in events:
            if e.type in ATTRIBUTE_TRIGGERS:
                triggered[cast(int, e.lead_id)] = e.occurred_at  # the latest: in order
    if not matched and not explicit and not triggered:
        return
    groups = {grp.pk: grp for grp in ScoreGroup.objects.all()}
    primary = next((grp for grp in groups.values() if grp.is_primary), None)
    if primary is None:  # a database emptied by hand or by a test's flush
        primary = ScoreGroup.primary()
        groups[primary.pk] = primary
    batch.score_formula = g.formula(primary)
    if any(r.max_times is not None for _, r in matched) or triggered:
        _lock(cast(int, e.lead_id) for e in events if e.lead_id not in batch.new_leads)
    now = clock.now()
    late: set[int] = set()
    matched = _apply_caps(matched, late)
    entries = [_new_entry(None, e.lead_id, r.group_id, r.pk, e.pk, EntryKind.RULE,
                          r.category, r.points, r.name[:200], e.occurred_at, now)
               for e, r in matched if e.lead_id not in late]
    for e in explicit:
        if e.lead_id not in late and (found := explicit_points(e.properties)):
            points, category, reason = found
            entries.append(_new_entry(None, e.lead_id, primary.pk, None, e.pk,
                                      EntryKind.POINTS, category, points, reason,
                                      e.occurred_at, now))
    removed: list[tuple[int, int, int, str, int]] = []
    if triggered:
        for lead_id in late:
            triggered.pop(lead_id, None)
        added, removed = _attribute_changes(batch, attribute_rules, triggered, now)
        entries += added
    if entries:
        bulk_insert(ScoreEntry, entries, WRITTEN)
    if removed:
        ScoreEntry.objects.filter(pk__among=[r[0] for r in removed]).delete()
    _note_deltas(batch, groups, primary,
                 [(e.lead_id, e.group_id, e.category, e.points) for e in entries]
                 + [(lead, grp, cat, -points) for _, lead, grp, cat, points in removed])
    if late:
        from leadflow.scoring.rescore import rescore

        rescore(lead_ids=late, cause="late_event", notify=True)


def _lock(lead_ids: Iterable[int]) -> None:
    """Lock the batch's leads in id order before reading the entries a capped or attribute
    rule counts on, as a re-score does: the two then see each other's work whole. All the
    batch's leads, so that the lead write (which locks some of them) locks no new row
    out of order. SQLite locks the whole database for a write."""
    ids = sorted(set(lead_ids))
    if ids and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM leads_lead WHERE id = ANY(%s::bigint[]) "
                           "ORDER BY id FOR NO KEY UPDATE", [int_array(ids)])


def _apply_caps(matched: list[tuple[Any, ScoreRule]], late: set[int]
                ) -> list[tuple[Any, ScoreRule]]:
    """Keep the (event, rule) matches within their rule's max_times per period, counting
    the entries already written; note in `late` the leads with a match older than an entry
    it would have displaced."""
    capped = [(e, r) for e, r in matched if r.max_times is not None]
    if not capped:
        return matched
    leads = {e.lead_id for e, _ in capped}
    ever = {r.pk for _, r in capped if r.per == ""}
    starts = [g.period_start(r, e.occurred_at) for e, r in capped if r.per != ""]
    periodic = {r.pk for _, r in capped if r.per != ""}
    wanted = Q(rule_id__in=ever) if ever else Q(pk__in=[])
    if periodic:
        wanted |= Q(rule_id__in=periodic, occurred_at__gte=min(s for s in starts if s))
    rules = {r.pk: r for _, r in capped}
    count: dict[tuple, int] = defaultdict(int)
    last: dict[tuple, tuple[datetime, int]] = {}
    for lead_id, rule_id, at, event_id in ScoreEntry.objects.filter(
            wanted, lead_id__among=leads).values_list("lead_id", "rule_id", "occurred_at",
                                                      "event_id"):
        key = (lead_id, rule_id, g.period_key(rules[rule_id], at))
        count[key] += 1
        last[key] = max(last.get(key, (at, event_id or 0)), (at, event_id or 0))
    kept = []
    for e, r in matched:
        if r.max_times is None:
            kept.append((e, r))
            continue
        key = (e.lead_id, r.pk, g.period_key(r, e.occurred_at))
        if count[key] < r.max_times:
            count[key] += 1
            kept.append((e, r))
        elif key in last and (e.occurred_at, e.pk) < last[key]:
            late.add(e.lead_id)
    return kept


def _attribute_changes(batch: Batch, rules: list[ScoreRule], triggered: dict[int, datetime],
                       now: datetime) -> tuple[list[ScoreEntry], list[tuple]]:
    """Entries to add (a rule now holds, dated at the event that made it hold) and to
    remove ((id, lead, group, category, points): it no longer holds) for the leads whose
    attributes may have changed."""
    values = {pk: values_of_lead(lead) for pk, lead in batch.new_leads.items()
              if pk in triggered}
    stored = [pk for pk in triggered if pk not in values]
    if stored:
        for row in Lead.objects.filter(pk__among=stored).values(*lead_row_fields()):
            values[row["id"]] = lead_values(row)
    have: dict[tuple[int, int], list[tuple]] = defaultdict(list)
    for entry in ScoreEntry.objects.filter(
            rule_id__in=[r.pk for r in rules], lead_id__among=list(triggered),
            event__isnull=True).values_list("pk", "lead_id", "rule_id", "group_id",
                                            "category", "points"):
        have[(entry[1], entry[2])].append(entry)
    added, removed = [], []
    for lead_id, at in triggered.items():
        if lead_id not in values:  # deleted meanwhile
            continue
        for r in rules:
            holds = matches(r.conditions, values[lead_id])
            existing = have.get((lead_id, r.pk))
            if holds and not existing:
                added.append(_new_entry(None, lead_id, r.group_id, r.pk, None,
                                        EntryKind.RULE, r.category, r.points, r.name[:200],
                                        at, now))
            elif not holds and existing:
                removed += [(pk, lead, grp, cat, points)
                            for pk, lead, _, grp, cat, points in existing]
    return added, removed


def _note_deltas(batch: Batch, groups: dict[int, ScoreGroup], primary: ScoreGroup,
                 changes: list[tuple[int, int, str, int]]) -> None:
    """The primary group's points go to `batch.score_deltas` (written with the lead row);
    the other groups' scores are written now, set-based."""
    others: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    deltas = batch.score_deltas
    for lead_id, group_id, category, points in changes:
        if group_id == primary.pk:
            by_column = deltas.setdefault(lead_id, {})
            column = CATEGORY_FIELD[Category(category)]
            by_column[column] = by_column.get(column, 0) + points
        else:
            others[(lead_id, group_id)][category] += points
    if not others:
        return
    from leadflow.scoring.models import LeadGroupScore

    current = {(row[0], row[1]): row[2:] for row in LeadGroupScore.objects.filter(
        lead_id__among={lead for lead, _ in others}, group_id__in={grp for _, grp in others}
    ).values_list("lead_id", "group_id", "total", "fit", "engagement", "interest")}
    rows = []
    for (lead_id, group_id), gained in sorted(others.items()):
        before, *dims = current.get((lead_id, group_id), (0, 0, 0, 0))
        fit, eng, int_ = (d + gained.get(c, 0) for d, c in zip(dims, g.DIMENSIONS,
                                                                 strict=True))
        group = groups[group_id]
        after = g.total(group, fit, eng, int_)
        rows.append((lead_id, group_id, after, fit, eng, int_, g.grade(group, fit)))
        batch.group_scores.setdefault(lead_id, {})[group_id] = (before, after)
    g.upsert_group_scores(rows)
