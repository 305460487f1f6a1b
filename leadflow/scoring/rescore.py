"""Re-scoring: rebuild the rule and points entries of a set of leads (or all) from their
events and the current rules, set-based, and write only what changes.

A re-score may be limited to some rules (`rule_ids`: the rules an edit changed): each
rule's entries depend only on that rule and the events, so the others' are left as they are
and only the scoped rules' entries (and those a deleted rule left behind) are rebuilt.

Per chunk of leads (an id range, CHUNK wide, in its own transaction when not inside one):
1. lock the chunk's lead rows in id order (as the pipeline does: a batch and a re-score
   then see each other's work whole, and end as if one ran after the other);
2. fill a temporary table with the entries the chunk should have: one INSERT ... SELECT
   per active event rule (a ROW_NUMBER() window over the lead and calendar period, in
   event-time order, for max_times), one for the events carrying their own points; the
   attribute rules are evaluated in Python on the chunk's lead rows;
3. match them to the entries there are (by rule and event), then one DELETE, one UPDATE
   and one INSERT write the difference;
4. total the leads whose entries changed (their decay entries, which leadflow.scoring.decay
   owns, included) and write the totals that differ; `scores_rebuilt` tells lifecycle.
"""

# ruff: noqa: S608 (the SQL is built from constants and from conditions.event_sql, whose
# values all travel as parameters)
from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, Sum

from leadflow.core import clock
from leadflow.core.sqlarrays import int_array, text_array
from leadflow.leads.models import Category, Lead
from leadflow.scoring import groups as g
from leadflow.scoring.conditions import event_sql, lead_row_fields, lead_values, matches
from leadflow.scoring.models import (
    EntryKind,
    LeadGroupScore,
    Per,
    RuleKind,
    ScoreEntry,
    ScoreGroup,
    ScoreRule,
)
from leadflow.scoring.signals import scores_rebuilt

CHUNK = 20000
TARGET = "scoring_target"


@dataclass
class RescoreResult:
    leads_changed: int = 0
    stage_moves: int = 0
    entries_added: int = 0
    entries_removed: int = 0
    entries_changed: int = 0
    seconds: float = 0.0


class _Rollback(Exception):
    pass


class LostLease(Exception):
    """The job running the re-score no longer holds it (another worker took it over)."""


def preview(apply: Callable[[], list[int] | None]) -> RescoreResult:
    """What saving a change would do: runs `apply()` (the unsaved rule or group changes;
    it returns the ids of the rules it changed, or None when every rule is concerned), then
    the re-score, in a transaction rolled back; returns the counts."""
    outcome = RescoreResult()
    try:
        with transaction.atomic():
            rule_ids = apply()
            outcome = rescore(cause="rule_change", notify=False, rule_ids=rule_ids)
            raise _Rollback
    except _Rollback:
        pass
    return outcome


def rescore(*, lead_ids: Iterable[int] | None = None, cause: str = "rescore",
            notify: bool = False, all_totals: bool = False,
            rule_ids: Iterable[int] | None = None, in_place: bool = False,
            keep_alive: Callable[[], bool] | None = None) -> RescoreResult:
    """Rebuild the entries of kind rule and points of `lead_ids` (None: every lead) from
    their events and the current rules, and their totals. `all_totals` rewrites the totals
    of every lead concerned, not only those whose entries changed (after a change of a
    group's weights or grade cut-offs). `rule_ids` limits the rebuild to those rules'
    entries (None: every rule and the events carrying their own points); with `in_place`
    (an edit of their points, category or group only: which events they match is
    unchanged) their entries are rewritten where they are instead of matched again.
    `keep_alive` is called between chunks (a job renewing its lease); when it returns
    False the re-score stops, its finished chunks committed."""
    started = time.perf_counter()
    lead_ids = None if lead_ids is None else list(lead_ids)  # read twice
    scope = None if rule_ids is None else sorted(set(rule_ids))
    active = ScoreRule.objects.filter(active=True).order_by("pk")
    groups = {grp.pk: grp for grp in ScoreGroup.objects.all()}
    primary = next((grp for grp in groups.values() if grp.is_primary), None)
    if primary is None:  # a database emptied by hand or by a test's flush
        primary = ScoreGroup.primary()
        groups[primary.pk] = primary
    run = _Run(rules=list(active if scope is None else active.filter(pk__in=scope)),
               scope=scope, in_place=in_place and scope is not None, groups=groups,
               primary=primary, cause=cause, notify=notify, all_totals=all_totals)
    for chunk in _chunks(lead_ids):
        if keep_alive is not None and not keep_alive():
            raise LostLease
        with transaction.atomic():
            _rescore_chunk(chunk, run)
    _follow_decay(lead_ids, cause, groups.values())
    run.result.seconds = time.perf_counter() - started
    return run.result


@dataclass
class _Run:
    """One re-score's settings, and its counts so far."""
    rules: list[ScoreRule]
    scope: list[int] | None
    in_place: bool
    groups: dict[int, ScoreGroup]
    primary: ScoreGroup
    cause: str
    notify: bool
    all_totals: bool
    result: RescoreResult = field(default_factory=RescoreResult)


def _follow_decay(lead_ids: Iterable[int] | None, cause: str,
                  groups: Iterable[ScoreGroup]) -> None:
    """Decay lines are derived too: older activity arriving late (an import, a merge) can
    fill an inactive period, a group's decay settings may change, and half-life follows the
    engagement lines. Rule changes touch no activity, so only the half-life lines are
    refreshed after them."""
    from leadflow.scoring import decay

    ids = None if lead_ids is None else sorted(set(lead_ids))
    if (cause in ("late_event", "merge") and ids is not None) or cause == "group_change":
        decay.rebuild_inactivity(ids)
    if any(grp.half_life_days for grp in groups):
        decay.refresh_half_life(ids)


def _chunks(lead_ids: Iterable[int] | None) -> Iterable[tuple[int, int, list[int] | None]]:
    """(lowest id, highest id, the ids or None for all in the range)."""
    if lead_ids is not None:
        ids = sorted(set(lead_ids))
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            yield part[0], part[-1], part
        return
    bounds = Lead.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    for lo in range(bounds["lo"], bounds["hi"] + 1, CHUNK):
        yield lo, lo + CHUNK - 1, None


def _where(column: str, lo: int, hi: int, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return f"{column} BETWEEN %s AND %s", [lo, hi]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [int_array(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _rescore_chunk(chunk: tuple[int, int, list[int] | None], run: _Run) -> None:
    lo, hi, ids = chunk
    result = run.result
    pg = connection.vendor == "postgresql"
    now = clock.now()
    with connection.cursor() as cursor:
        leads_sql, leads_params = _where("id", lo, hi, ids)
        cursor.execute(f"SELECT id FROM leads_lead WHERE {leads_sql} ORDER BY id"
                       + (" FOR NO KEY UPDATE" if pg else ""), leads_params)
        present = [row[0] for row in cursor.fetchall()]
        if not present:
            return
        if run.in_place:
            changed_leads, counts = _rewrite_in_place(cursor, run.rules, lo, hi, ids)
        else:
            _fill_target(cursor, run.rules, run.primary, lo, hi, ids,
                         explicit=run.scope is None)
            _attribute_targets(cursor, run.rules, present)
            changed_leads, counts = _write_difference(cursor, lo, hi, ids, now, run.scope)
    result.entries_removed += counts[0]
    result.entries_changed += counts[1]
    result.entries_added += counts[2]
    to_total = present if run.all_totals else sorted(changed_leads & set(present))
    changes = write_totals(to_total, run.groups, run.primary) if to_total else {}
    result.leads_changed += len(changes)
    if changes:
        for _, moved in scores_rebuilt.send(sender=ScoreEntry, changes=changes,
                                            cause=run.cause, notify=run.notify):
            result.stage_moves += moved if isinstance(moved, int) else 0


def _rewrite_in_place(cursor, rules: list[ScoreRule], lo: int, hi: int,
                      ids: list[int] | None) -> tuple[set[int], tuple[int, int, int]]:
    """The entries of rules whose matching did not change take their rule's points,
    category, group and name: one UPDATE per rule, of the rows that differ."""
    where, params = _where("lead_id", lo, hi, ids)
    leads: list[int] = []
    for rule in rules:
        cursor.execute(
            "UPDATE scoring_scoreentry SET points = %s, category = %s, group_id = %s, "
            f"reason = %s WHERE rule_id = %s AND kind = 'rule' AND {where} AND "
            "(points <> %s OR category <> %s OR group_id <> %s OR reason <> %s) "
            "RETURNING lead_id",
            [rule.points, rule.category, rule.group_id, rule.name[:200], rule.pk, *params,
             rule.points, rule.category, rule.group_id, rule.name[:200]])
        leads += [row[0] for row in cursor.fetchall()]
    return set(leads), (0, len(leads), 0)


def _create_target(cursor) -> None:
    time_type = "timestamptz" if connection.vendor == "postgresql" else "text"
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {TARGET} (lead_id bigint, group_id bigint, "
        f"rule_id bigint, event_id bigint, kind varchar(10), category varchar(12), "
        f"points integer, reason varchar(200), occurred_at {time_type}, entry_id bigint, "
        "moved boolean NOT NULL DEFAULT FALSE)")
    cursor.execute(f"DELETE FROM {TARGET}")


def _period_sql(per: str) -> str:
    if connection.vendor == "postgresql":
        unit = {Per.DAY: "day", Per.WEEK: "week", Per.MONTH: "month"}[Per(per)]
        return f"date_trunc('{unit}', e.occurred_at AT TIME ZONE 'UTC')"
    # SQLite stores UTC times as text: 'YYYY-MM-DD HH:MM:SS...'.
    return {Per.DAY: "substr(e.occurred_at, 1, 10)",
            Per.WEEK: "date(e.occurred_at, 'weekday 0', '-6 days')",
            Per.MONTH: "substr(e.occurred_at, 1, 7)"}[Per(per)]


# An event carrying its own points, in SQL: engine.explicit_points's twin.
EXPLICIT_PG = (
    "SELECT e.lead_id, %s, NULL, e.id, 'points', "
    "  CASE WHEN jsonb_exists(e.properties, 'category') THEN e.properties ->> 'category' "
    "    ELSE 'engagement' END AS cat, (e.properties ->> 'points')::int, "
    "  CASE WHEN jsonb_typeof(e.properties -> 'reason') = 'string' "
    "    THEN left(e.properties ->> 'reason', 200) ELSE '' END, e.occurred_at, NULL "
    "FROM tracking_event AS e WHERE e.type = ANY(%s::text[]) AND {where} "
    "AND jsonb_typeof(e.properties -> 'points') = 'number' "
    "AND e.properties ->> 'points' ~ '^-?[0-9]+$' AND e.properties ->> 'points' !~ '^-?0+$' "
    "AND (NOT jsonb_exists(e.properties, 'category') OR "
    "  (jsonb_typeof(e.properties -> 'category') = 'string' "
    "   AND e.properties ->> 'category' = ANY(%s::text[])))")
EXPLICIT_SQLITE = (
    "SELECT e.lead_id, %s, NULL, e.id, 'points', "
    "  CASE WHEN json_type(e.properties, '$.category') IS NULL THEN 'engagement' "
    "    ELSE json_extract(e.properties, '$.category') END, "
    "  json_extract(e.properties, '$.points'), "
    "  CASE WHEN json_type(e.properties, '$.reason') = 'text' "
    "    THEN substr(json_extract(e.properties, '$.reason'), 1, 200) ELSE '' END, "
    "  e.occurred_at, NULL "
    "FROM tracking_event AS e WHERE e.type IN ({types}) AND {where} "
    "AND json_type(e.properties, '$.points') = 'integer' "
    "AND json_extract(e.properties, '$.points') <> 0 "
    "AND (json_type(e.properties, '$.category') IS NULL OR "
    "  (json_type(e.properties, '$.category') = 'text' "
    "   AND json_extract(e.properties, '$.category') IN ({categories})))")


def _fill_target(cursor, rules: list[ScoreRule], primary: ScoreGroup, lo: int, hi: int,
                 ids: list[int] | None, *, explicit: bool) -> None:
    from leadflow.tracking.models import EventType

    _create_target(cursor)
    where, where_params = _where("e.lead_id", lo, hi, ids)
    adapt = connection.ops.adapt_datetimefield_value
    insert = (f"INSERT INTO {TARGET} (lead_id, group_id, rule_id, event_id, kind, category, "
              "points, reason, occurred_at, entry_id) ")
    for rule in rules:
        if rule.kind != RuleKind.EVENT:
            continue
        conditions, params = event_sql(rule.conditions)
        window, window_params = "", []
        if rule.valid_from is not None:
            window += " AND e.occurred_at >= %s"
            window_params.append(adapt(rule.valid_from))
        if rule.valid_until is not None:
            window += " AND e.occurred_at <= %s"
            window_params.append(adapt(rule.valid_until))
        head = [rule.group_id, rule.pk, rule.category, rule.points, rule.name[:200]]
        matching = (f"FROM tracking_event AS e WHERE e.type = %s AND {where} {window} "
                    f"AND {conditions}")
        match_params = [rule.event_type, *where_params, *window_params, *params]
        if rule.max_times is None:
            cursor.execute(
                insert + "SELECT e.lead_id, %s, %s, e.id, 'rule', %s, %s, %s, e.occurred_at, "
                f"NULL {matching}", [*head, *match_params])
            continue
        period = "" if rule.per == Per.EVER else f", {_period_sql(rule.per)}"
        cursor.execute(
            insert + "SELECT lead_id, %s, %s, id, 'rule', %s, %s, %s, occurred_at, NULL "
            "FROM (SELECT e.id, e.lead_id, e.occurred_at, ROW_NUMBER() OVER (PARTITION BY "
            f"e.lead_id{period} ORDER BY e.occurred_at, e.id) AS n {matching}) AS m "
            "WHERE n <= %s", [*head, *match_params, rule.max_times])
    if not explicit:
        return
    types = sorted(EventType.EXPLICIT_POINTS)
    if connection.vendor == "postgresql":
        cursor.execute(insert + EXPLICIT_PG.format(where=where),
                       [primary.pk, text_array(types), *where_params,
                        text_array(Category.values)])
    else:
        cursor.execute(
            insert + EXPLICIT_SQLITE.format(
                where=where, types=", ".join(["%s"] * len(types)),
                categories=", ".join(["%s"] * len(Category.values))),
            [primary.pk, *types, *where_params, *Category.values])


def _attribute_targets(cursor, rules: list[ScoreRule], lead_ids: list[int]) -> None:
    """The attribute entries the leads should have: an entry still holding keeps its row
    (and its date); a new one is dated now (the change that made it hold)."""
    attribute_rules = [r for r in rules if r.kind == RuleKind.ATTRIBUTE]
    if not attribute_rules:
        return
    have: dict[tuple[int, int], tuple[int | None, datetime]] = {}
    for pk, lead_id, rule_id, at in ScoreEntry.objects.filter(
            rule_id__in=[r.pk for r in attribute_rules], lead_id__among=lead_ids,
            event__isnull=True).order_by("occurred_at", "pk").values_list(
                "pk", "lead_id", "rule_id", "occurred_at"):
        have.setdefault((lead_id, rule_id), (pk, at))
    now = clock.now()
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for row in Lead.objects.filter(pk__among=lead_ids).values(*lead_row_fields()):
        values = lead_values(row)
        for r in attribute_rules:
            if matches(r.conditions, values):
                entry_id, at = have.get((row["id"], r.pk), (None, now))
                rows.append((row["id"], r.group_id, r.pk, None, EntryKind.RULE, r.category,
                             r.points, r.name[:200], adapt(at), entry_id))
    if rows:
        cursor.executemany(
            f"INSERT INTO {TARGET} (lead_id, group_id, rule_id, event_id, kind, category, "
            "points, reason, occurred_at, entry_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s)", rows)


DIFFERS = ("(x.points <> t.points OR x.category <> t.category OR x.reason <> t.reason "
           "OR x.group_id <> t.group_id OR x.lead_id <> t.lead_id "
           "OR x.occurred_at <> t.occurred_at)")


def _match_entries(cursor, where: str, params: list) -> None:
    """Point each target row at the entry it already has (same rule and event): first
    among the chunk's entries, then, for the rest, anywhere (an entry still on the lead
    its event was moved from; `moved` marks them)."""
    same = ("x.event_id = t.event_id AND x.kind = t.kind "
            "AND COALESCE(x.rule_id, 0) = COALESCE(t.rule_id, 0)")
    if connection.vendor == "postgresql":
        # A temporary table has no statistics until analysed: without them the joins
        # were nested loops over it (quadratic in the chunk's entries).
        cursor.execute(f"ANALYZE {TARGET}")
        cursor.execute(f"UPDATE {TARGET} AS t SET entry_id = x.id FROM scoring_scoreentry "
                       f"AS x WHERE {where} AND {same}", params)
    else:
        cursor.execute(f"UPDATE {TARGET} AS t SET entry_id = (SELECT min(x.id) FROM "
                       f"scoring_scoreentry AS x WHERE {where} AND {same}) "
                       "WHERE t.event_id IS NOT NULL", params)
    # min(), not ORDER BY id LIMIT 1: PostgreSQL walked the primary key for that.
    cursor.execute(f"UPDATE {TARGET} AS t SET entry_id = (SELECT min(x.id) FROM "
                   f"scoring_scoreentry AS x WHERE {same}), moved = TRUE "
                   "WHERE t.entry_id IS NULL AND t.event_id IS NOT NULL")
    cursor.execute(f"UPDATE {TARGET} SET moved = FALSE WHERE moved AND entry_id IS NULL")


def _write_difference(cursor, lo: int, hi: int, ids: list[int] | None, now: datetime,
                      scope: list[int] | None) -> tuple[set[int], tuple[int, int, int]]:
    """Write what differs between the target and the entries there are; returns the leads
    whose entries changed and (removed, changed, added)."""
    where, params = _where("x.lead_id", lo, hi, ids)
    if scope is None:
        mine, mine_params = "x.kind IN ('rule', 'points')", []
    else:  # the scoped rules' entries, and those of deleted rules (rule_id set to null)
        mine = ("x.kind = 'rule' AND (x.rule_id IS NULL OR x.rule_id IN "
                f"({', '.join(['%s'] * len(scope)) or 'NULL'}))")
        mine_params = list(scope)
    _match_entries(cursor, where, params)
    stale = (f"FROM scoring_scoreentry AS x WHERE {where} AND {mine} "
             f"AND NOT EXISTS (SELECT 1 FROM {TARGET} AS t WHERE t.entry_id = x.id)")
    cursor.execute(f"SELECT x.lead_id, count(*) {stale} GROUP BY x.lead_id",
                   [*params, *mine_params])
    removed = cursor.fetchall()
    # The chunk's own entries (without the lead bound this read the whole ledger), then
    # the few found on other leads.
    cursor.execute(f"SELECT x.lead_id, t.lead_id FROM scoring_scoreentry AS x JOIN {TARGET} "
                   f"AS t ON t.entry_id = x.id WHERE {where} AND {DIFFERS}", params)
    changed = cursor.fetchall()
    cursor.execute(f"SELECT x.lead_id, t.lead_id FROM {TARGET} AS t JOIN scoring_scoreentry "
                   "AS x ON x.id = t.entry_id WHERE t.moved")
    changed += cursor.fetchall()
    cursor.execute(f"SELECT lead_id, count(*) FROM {TARGET} WHERE entry_id IS NULL "
                   "GROUP BY lead_id")
    added = cursor.fetchall()
    if removed:
        cursor.execute(f"DELETE FROM scoring_scoreentry WHERE id IN (SELECT x.id {stale})",
                       [*params, *mine_params])
    if changed:
        update = ("UPDATE scoring_scoreentry AS x SET points = t.points, "
                  "category = t.category, reason = t.reason, group_id = t.group_id, "
                  f"lead_id = t.lead_id, occurred_at = t.occurred_at FROM {TARGET} AS t "
                  "WHERE t.entry_id = x.id AND ")
        cursor.execute(update + f"{where} AND {DIFFERS}", params)
        cursor.execute(update + "t.moved")
    if added:
        cursor.execute(
            "INSERT INTO scoring_scoreentry (lead_id, group_id, rule_id, event_id, kind, "
            "category, points, reason, occurred_at, created_at) SELECT lead_id, group_id, "
            f"rule_id, event_id, kind, category, points, reason, occurred_at, %s FROM {TARGET} "
            "WHERE entry_id IS NULL", [connection.ops.adapt_datetimefield_value(now)])
    cursor.execute(f"DELETE FROM {TARGET}")
    leads = ({lead for lead, _ in removed} | {lead for pair in changed for lead in pair}
             | {lead for lead, _ in added})
    return leads, (sum(n for _, n in removed), len(changed), sum(n for _, n in added))


def write_totals(lead_ids: list[int], groups: dict[int, ScoreGroup], primary: ScoreGroup
                 ) -> dict[int, dict[int, tuple[int, int]]]:
    """Total the entries of `lead_ids` per group (every kind of entry) and write the
    totals that differ: the primary group on the lead rows, the others in LeadGroupScore.
    Returns {lead id: {group id: (total before, total after)}} for the totals that moved
    (a lead whose dimensions moved but not its total is in it too)."""
    changes: dict[int, dict[int, tuple[int, int]]] = {}
    others = [grp for grp in groups.values() if not grp.is_primary]
    if connection.vendor == "postgresql":
        for pk, before, after in _write_primary_totals_pg(lead_ids, primary):
            changes[pk] = {primary.pk: (before, after)}
        if not others:
            return changes
    sums: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    entries = ScoreEntry.objects.filter(lead_id__among=lead_ids)
    if connection.vendor == "postgresql":
        entries = entries.exclude(group_id=primary.pk)
    for lead_id, group_id, category, points in entries.values_list(
            "lead_id", "group_id", "category").annotate(s=Sum("points")).order_by():
        sums[(lead_id, group_id)][category] += points
    if connection.vendor != "postgresql":
        lead_rows: list[Any] = []
        for pk, score, fit, eng, int_, grade in Lead.objects.filter(
                pk__among=lead_ids).values_list("pk", "score", "fit_score",
                                                "engagement_score", "interest_score", "grade"):
            dims = tuple(sums.get((pk, primary.pk), {}).get(c, 0) for c in g.DIMENSIONS)
            after = g.total(primary, *dims)
            new_grade = g.grade(primary, dims[0])
            if (after, *dims, new_grade) != (score, fit, eng, int_, grade):
                lead_rows.append((pk, after, *dims, new_grade))
                changes.setdefault(pk, {})[primary.pk] = (score, after)
        _write_lead_totals(lead_rows)
    if others:
        current = {(row[0], row[1]): row[2:] for row in LeadGroupScore.objects.filter(
            lead_id__among=lead_ids).values_list("lead_id", "group_id", "total", "fit",
                                                 "engagement", "interest", "grade")}
        rows: list[Any] = []
        for lead_id in lead_ids:
            for grp in others:
                was = current.get((lead_id, grp.pk))
                if was is None and (lead_id, grp.pk) not in sums:
                    continue
                dims = tuple(sums.get((lead_id, grp.pk), {}).get(c, 0) for c in g.DIMENSIONS)
                after = g.total(grp, *dims)
                new = (after, *dims, g.grade(grp, dims[0]))
                if new != (tuple(was) if was else None):
                    rows.append((lead_id, grp.pk, *new))
                    changes.setdefault(lead_id, {})[grp.pk] = (was[0] if was else 0, after)
        g.upsert_group_scores(rows)
    return changes


# The primary group's totals, summed, compared and written in one statement (groups.total
# and groups.grade in SQL); returns (lead, total before, total after) of the rows written.
# The id bounds beside the id list let both tables be read by index: with the list alone
# PostgreSQL read the whole of each table for every chunk.
PRIMARY_TOTALS_PG = """
WITH s AS (
  SELECT lead_id,
    COALESCE(sum(points) FILTER (WHERE category = 'fit'), 0) AS f,
    COALESCE(sum(points) FILTER (WHERE category = 'engagement'), 0) AS e,
    COALESCE(sum(points) FILTER (WHERE category = 'interest'), 0) AS i
  FROM scoring_scoreentry WHERE lead_id BETWEEN %(lo)s AND %(hi)s
    AND lead_id = ANY(%(ids)s::bigint[]) AND group_id = %(group)s
  GROUP BY lead_id),
v AS (
  SELECT l.id, l.score AS before, COALESCE(s.f, 0) AS f, COALESCE(s.e, 0) AS e,
    COALESCE(s.i, 0) AS i
  FROM leads_lead AS l LEFT JOIN s ON s.lead_id = l.id
  WHERE l.id BETWEEN %(lo)s AND %(hi)s AND l.id = ANY(%(ids)s::bigint[])),
w AS (
  SELECT id, before, f, e, i, f * %(wf)s + e * %(we)s + i * %(wi)s AS total,
    CASE WHEN f >= %(ga)s THEN 'A' WHEN f >= %(gb)s THEN 'B' WHEN f >= %(gc)s THEN 'C'
      ELSE 'D' END AS grade
  FROM v)
UPDATE leads_lead AS l SET score = w.total, fit_score = w.f, engagement_score = w.e,
  interest_score = w.i, grade = w.grade
FROM w WHERE l.id = w.id AND (l.score, l.fit_score, l.engagement_score, l.interest_score,
  l.grade) IS DISTINCT FROM (w.total, w.f, w.e, w.i, w.grade)
RETURNING l.id, w.before, w.total"""


def _write_primary_totals_pg(lead_ids: list[int], primary: ScoreGroup
                             ) -> list[tuple[int, int, int]]:
    wf, we, wi, ga, gb, gc = g.formula(primary)
    with connection.cursor() as cursor:
        cursor.execute(PRIMARY_TOTALS_PG, {
            "ids": int_array(lead_ids), "lo": min(lead_ids), "hi": max(lead_ids),
            "group": primary.pk, "wf": wf, "we": we, "wi": wi,
            "ga": ga, "gb": gb, "gc": gc})
        return cursor.fetchall()


def _write_lead_totals(rows: list[tuple[int, int, int, int, int, str]]) -> None:
    """SQLite's write of the primary totals (PostgreSQL's is PRIMARY_TOTALS_PG)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead SET score = v.s, fit_score = v.f, engagement_score = v.e, "
            "interest_score = v.i, grade = v.g FROM (SELECT "
            "json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS s, "
            "json_extract(value, '$[2]') AS f, json_extract(value, '$[3]') AS e, "
            "json_extract(value, '$[4]') AS i, json_extract(value, '$[5]') AS g "
            "FROM json_each(%s)) AS v WHERE leads_lead.id = v.id", [json.dumps(rows)])
