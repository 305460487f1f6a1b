"""Score decay: the inactivity penalty and the half-life of engagement points, per group.

Inactivity (`ScoreGroup.inactivity_days`, `inactivity_points`): after that many days with
no activity of the lead's own (an event that moves its last touch, or its creation: not
what we did to it, `EventType.OUR_ACTIONS`), the points apply once, as a line of kind
"inactivity" dated at last activity + inactivity_days; the next activity re-arms them.
Each inactive period of the history is one line, so a lead silent for a year and then
back has one -10, not four.

Half-life (`half_life_days`): a group's engagement points (rule and given points, dated at
their event) lose half their value every N days. One line of kind "half_life" per lead and
group holds decayed minus raw engagement, both whole numbers: the decayed sum
(sum of points * 0.5 ** (age / N)) is rounded to the nearest integer, halves away from
zero, so 10 points after two half-lives (2.5) count 3. The decay lines themselves do not
decay (the penalty is for one period, not an engagement).

Everything is derived from the events and the entries: `rebuild_inactivity` computes every
period of the history, `refresh_half_life` the half-life lines, writing only the lines
that change. The periodic job `apply_decay` adds the penalty of the leads whose current
period has crossed the threshold (read from `Lead.last_touch_at`, which is their last
activity) and refreshes the half-lives, for the whole table in chunks of lead ids, a
constant number of statements per chunk. It is claimed through core.workqueue (one row,
`DecayRun`), every chunk holds an advisory lock per group on PostgreSQL, and the lines are
unique (score_entry_inactivity_once, score_entry_half_life_once), so two workers running it
at once write each line once. The lead totals (the primary group's columns on the lead,
`LeadGroupScore` for the others) move with the lines, in the same transaction; then
`scores_rebuilt` is sent (cause "decay") so that lifecycle can move stages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, Q

from leadflow.core import clock, workqueue
from leadflow.core.sqlarrays import int_array, time_array
from leadflow.leads.models import Category, Lead
from leadflow.scoring.models import DecayRun, EntryKind, ScoreEntry, ScoreGroup
from leadflow.scoring.signals import scores_rebuilt

# How often the job runs: decay is counted in days, and each run scans the table.
DECAY_EVERY = timedelta(minutes=15)
LEASE = timedelta(minutes=10)
# Lead ids per chunk: one transaction, a few statements, bounded memory.
CHUNK = 50_000
# pg_advisory_xact_lock(DECAY_LOCK, group id): the decay writes of one group, one at a time.
DECAY_LOCK = 71_010

Changes = dict[int, dict[int, tuple[int, int]]]


# The queries below are assembled from this module's own fragments (columns, placeholders,
# dialect functions): every value travels as a parameter (hence the S608 waivers).
@dataclass(frozen=True)
class _Scope:
    """Which leads a pass covers: an id range (the periodic job) or a list of ids."""

    lo: int | None = None
    hi: int | None = None
    ids: tuple[int, ...] | None = None

    def sql(self, column: str) -> tuple[str, list[Any]]:
        if self.ids is not None:
            if connection.vendor == "postgresql":
                return f"{column} = ANY(%s::bigint[])", [int_array(self.ids)]
            return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", list(self.ids)
        return f"{column} BETWEEN %s AND %s", [self.lo, self.hi]


def _scopes(lead_ids: Iterable[int] | None) -> Iterator[_Scope]:
    if lead_ids is not None:
        ids = sorted(set(lead_ids))
        for i in range(0, len(ids), CHUNK):
            yield _Scope(ids=tuple(ids[i:i + CHUNK]))
        return
    bounds = Lead.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return
    for lo in range(bounds["lo"], bounds["hi"] + 1, CHUNK):
        yield _Scope(lo=lo, hi=min(lo + CHUNK - 1, bounds["hi"]))


# --- the periodic job ---------------------------------------------------------------------

def apply_decay(worker: str = "") -> int:
    """Periodic job: when due (every DECAY_EVERY), add the inactivity lines of the leads
    whose current inactive period has reached its group's threshold and refresh the
    half-life lines, then tell lifecycle. Returns how many leads' scores changed."""
    if not ScoreGroup.objects.filter(Q(inactivity_days__isnull=False)
                                     | Q(half_life_days__isnull=False)).exists():
        return 0
    DecayRun.objects.bulk_create([DecayRun(name="decay", due_at=clock.now())],
                                 ignore_conflicts=True)
    claim = workqueue.claim(DecayRun.objects.all(), limit=1, lease=LEASE, worker=worker,
                            exhausted=_release)
    if not claim:
        return 0
    try:
        changed = run_decay(keep_alive=lambda: workqueue.keep_alive(claim))
    except Exception as exc:
        attempt = claim.attempts.get(claim.ids[0], 1)
        workqueue.done(claim, claim.ids, due=clock.now() + workqueue.backoff(attempt),
                       last_error=str(exc)[:2000])
        raise
    now = clock.now()
    workqueue.done(claim, claim.ids, due=now + DECAY_EVERY, attempts=0, last_error="",
                   ran_at=now)
    return changed


def _release(claim: workqueue.Claim) -> None:
    # A run that failed or died on every attempt: the job is still wanted, later.
    workqueue.done(claim, claim.ids, due=clock.now() + DECAY_EVERY, attempts=0)


def run_decay(now: datetime | None = None, keep_alive: Any = None) -> int:
    """The work of `apply_decay`, without the claim (for tests and the benchmark):
    chunk by chunk, each in its own transaction. Returns how many leads changed."""
    now = now or clock.now()
    groups = list(ScoreGroup.objects.filter(Q(inactivity_days__isnull=False)
                                            | Q(half_life_days__isnull=False)))
    changed: set[int] = set()
    for scope in _scopes(None):
        if keep_alive is not None and not keep_alive():
            break  # the lease was lost: the worker that took over carries on
        with transaction.atomic():
            changes: Changes = {}
            for group in groups:
                _lock(group)
                if group.inactivity_days is not None:
                    _merge(changes, _current_inactivity(group, scope, now))
                if group.half_life_days is not None:
                    _merge(changes, _half_life(group, scope, now))
            if changes:
                scores_rebuilt.send(sender=ScoreGroup, changes=changes, cause="decay",
                                    notify=True)
                changed |= changes.keys()
    return len(changed)


def _current_inactivity(group: ScoreGroup, scope: _Scope, now: datetime) -> Changes:
    """The penalty of the leads whose last activity is at least inactivity_days old and
    whose current period has none yet (a line dated after the last activity)."""
    days = group.inactivity_days or 0
    where, params = scope.sql("l.id")
    lock = " FOR NO KEY UPDATE OF l" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.id, l.last_touch_at FROM leads_lead AS l WHERE {where} "  # noqa: S608
            "AND l.last_touch_at <= %s AND NOT EXISTS (SELECT 1 FROM scoring_scoreentry AS e "
            "  WHERE e.lead_id = l.id AND e.group_id = %s AND e.kind = %s "
            f"  AND e.occurred_at > l.last_touch_at) ORDER BY l.id{lock}",
            [*params, now - timedelta(days=days), group.pk, EntryKind.INACTIVITY])
        rows = cursor.fetchall()
    if not rows:
        return {}
    penalty = [(lead_id, _aware(at) + timedelta(days=days)) for lead_id, at in rows]
    inserted = _insert(group, EntryKind.INACTIVITY, [
        (lead_id, group.inactivity_points, _inactivity_reason(days), at)
        for lead_id, at in penalty], now)
    return _add_to_totals(group, _sum(inserted))


# --- inactivity from the history ----------------------------------------------------------

def rebuild_inactivity(lead_ids: Iterable[int] | None = None,
                       now: datetime | None = None) -> set[int]:
    """Recompute every inactivity line of these leads (None: all) from their events, for
    every group, writing only the lines that change, and move the totals with them.
    Returns the leads whose lines changed. One window query per group and chunk."""
    now = now or clock.now()
    changed: set[int] = set()
    groups = list(ScoreGroup.objects.all())
    for scope in _scopes(lead_ids):
        with transaction.atomic():
            for group in groups:
                _lock(group)
                changed |= _rebuild_inactivity(group, scope, now).keys()
    return changed


def _rebuild_inactivity(group: ScoreGroup, scope: _Scope, now: datetime) -> Changes:
    wanted: dict[tuple[int, datetime], int] = {}
    days = group.inactivity_days
    if days is not None:
        for lead_id, at in _inactive_periods(scope, days, now):
            wanted[(lead_id, _aware(at) + timedelta(days=days))] = group.inactivity_points
    where, params = scope.sql("lead_id")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, lead_id, occurred_at, points FROM scoring_scoreentry "  # noqa: S608
            f"WHERE group_id = %s AND kind = %s AND {where}",
            [group.pk, EntryKind.INACTIVITY, *params])
        have = {(lead_id, _aware(at)): (pk, points)
                for pk, lead_id, at, points in cursor.fetchall()}
    gone = [(pk, key[0], points) for key, (pk, points) in have.items()
            if wanted.get(key) != points]
    new = [(lead_id, points, _inactivity_reason(days or 0), at)
           for (lead_id, at), points in wanted.items()
           if have.get((lead_id, at), (None, None))[1] != points]
    return _replace(group, EntryKind.INACTIVITY, gone, new, now)


def _inactive_periods(scope: _Scope, days: int, now: datetime) -> list[tuple[int, Any]]:
    """(lead id, last activity) of each period of `days` or more with no activity: the
    next activity (LEAD over the lead's activity in time order) came at least `days`
    later, or has not come and `days` have passed."""
    from leadflow.tracking.models import EventType

    where, params = scope.sql("e.lead_id")
    ours = sorted(EventType.OUR_ACTIONS)
    marks = ", ".join(["%s"] * len(ours))
    if connection.vendor == "postgresql":
        gap = "a.next >= a.occurred_at + make_interval(days => %s)"
        gap_params: list[Any] = [days]
    else:
        gap = ("CAST(strftime('%%s', a.next) AS INTEGER) "
               "- CAST(strftime('%%s', a.occurred_at) AS INTEGER) >= %s")
        gap_params = [days * 86400]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.lead_id, a.occurred_at FROM (SELECT e.lead_id, e.occurred_at, "  # noqa: S608
            "  LEAD(e.occurred_at) OVER (PARTITION BY e.lead_id ORDER BY e.occurred_at) "
            "  AS next FROM tracking_event AS e "
            f"  WHERE {where} AND e.type NOT IN ({marks}) AND e.occurred_at <= %s) AS a "
            f"WHERE a.occurred_at <= %s AND (a.next IS NULL OR {gap})",
            [*params, *ours, now, now - timedelta(days=days), *gap_params])
        return cursor.fetchall()


def _inactivity_reason(days: int) -> str:
    # Stored in English, like every code Leadflow writes; explain() shows it translated.
    return f"No activity for {days} days"


# --- half-life ----------------------------------------------------------------------------

def refresh_half_life(lead_ids: Iterable[int] | None = None,
                      now: datetime | None = None) -> set[int]:
    """Recompute the half-life line of these leads (None: all) in every group, as of
    `now`, writing only the lines that change (a group without half-life keeps none).
    Returns the leads whose lines changed."""
    now = now or clock.now()
    changed: set[int] = set()
    groups = list(ScoreGroup.objects.all())
    for scope in _scopes(lead_ids):
        with transaction.atomic():
            for group in groups:
                _lock(group)
                changed |= _half_life(group, scope, now).keys()
    return changed


def decayed(points: int, age: timedelta, half_life_days: int) -> float:
    """What `points` earned `age` ago count for now (the Python twin of the SQL below)."""
    return points * 0.5 ** (max(age.total_seconds(), 0) / (half_life_days * 86400))


def round_half_away(value: float) -> int:
    """To the nearest integer, halves away from zero (2.5 -> 3, -2.5 -> -3)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _half_life(group: ScoreGroup, scope: _Scope, now: datetime) -> Changes:
    wanted: dict[int, int] = {}
    where, params = scope.sql("e.lead_id")
    if group.half_life_days is not None:
        if connection.vendor == "postgresql":
            age = "GREATEST(EXTRACT(EPOCH FROM (%s::timestamptz - e.occurred_at)), 0)"
            age_params: list[Any] = [now]
        else:
            age = "MAX(%s - CAST(strftime('%%s', e.occurred_at) AS INTEGER), 0)"
            age_params = [int(now.timestamp())]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT e.lead_id, SUM(e.points), SUM(e.points * POWER(0.5, {age} / %s)) "  # noqa: S608
                "FROM scoring_scoreentry AS e WHERE e.group_id = %s AND e.category = %s "
                f"AND e.kind IN (%s, %s) AND {where} GROUP BY e.lead_id",
                [*age_params, group.half_life_days * 86400.0, group.pk, Category.ENGAGEMENT,
                 EntryKind.RULE, EntryKind.POINTS, *params])
            for lead_id, raw, value in cursor.fetchall():
                if difference := round_half_away(float(value)) - int(raw):
                    wanted[lead_id] = difference
    where, params = scope.sql("lead_id")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, lead_id, points FROM scoring_scoreentry "  # noqa: S608
            f"WHERE group_id = %s AND kind = %s AND {where}",
            [group.pk, EntryKind.HALF_LIFE, *params])
        have = {lead_id: (pk, points) for pk, lead_id, points in cursor.fetchall()}
    gone = [(pk, lead_id, points) for lead_id, (pk, points) in have.items()
            if wanted.get(lead_id) != points]
    reason = f"Engagement half-life of {group.half_life_days} days"
    new = [(lead_id, points, reason, now) for lead_id, points in wanted.items()
           if have.get(lead_id, (None, None))[1] != points]
    return _replace(group, EntryKind.HALF_LIFE, gone, new, now)


# --- writing lines and totals -------------------------------------------------------------

def _lock(group: ScoreGroup) -> None:
    # SQLite serialises writers by itself; PostgreSQL: one decay writer per group, so the
    # second of two workers reads the lines the first wrote and finds nothing to do.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DECAY_LOCK, group.pk])


def _replace(group: ScoreGroup, kind: str, gone: list[tuple[int, int, int]],
             new: list[tuple[int, int, str, datetime]], now: datetime) -> Changes:
    """Delete the lines `gone` (id, lead id, points), insert `new`, move the totals."""
    deltas: dict[int, int] = {}
    if gone:
        ScoreEntry.objects.filter(pk__among=[pk for pk, _, _ in gone])._raw_delete("default")
        for _pk, lead_id, points in gone:
            deltas[lead_id] = deltas.get(lead_id, 0) - points
    for lead_id, points in _insert(group, kind, new, now):
        deltas[lead_id] = deltas.get(lead_id, 0) + points
    return _add_to_totals(group, {k: v for k, v in deltas.items() if v})


def _insert(group: ScoreGroup, kind: str, rows: list[tuple[int, int, str, datetime]],
            now: datetime) -> list[tuple[int, int]]:
    """Insert decay lines (lead id, points, reason, occurred_at), engagement, no rule, no
    event; a line already there (another worker's) is skipped. Returns the inserted
    (lead id, points)."""
    if not rows:
        return []
    head = ("INSERT INTO scoring_scoreentry (lead_id, group_id, rule_id, event_id, kind, "
            "category, points, reason, occurred_at, created_at) ")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                head + "SELECT v.id, %s, NULL, NULL, %s, %s, v.points, v.reason, v.at, %s "
                "FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::timestamptz[]) "
                "AS v(id, points, reason, at) ON CONFLICT DO NOTHING "
                "RETURNING lead_id, points",
                [group.pk, kind, Category.ENGAGEMENT, now, int_array(r[0] for r in rows),
                 int_array(r[1] for r in rows), [r[2] for r in rows],
                 time_array(r[3] for r in rows)])
        else:
            adapt = connection.ops.adapt_datetimefield_value
            cursor.execute(
                head + "SELECT json_extract(value, '$[0]'), %s, NULL, NULL, %s, %s, "  # noqa: S608
                "json_extract(value, '$[1]'), json_extract(value, '$[2]'), "
                "json_extract(value, '$[3]'), %s FROM json_each(%s) WHERE true "
                "ON CONFLICT DO NOTHING RETURNING lead_id, points",
                [group.pk, kind, Category.ENGAGEMENT, adapt(now),
                 json.dumps([[r[0], r[1], r[2], adapt(r[3])] for r in rows])])
        return cursor.fetchall()


def _sum(rows: Iterable[tuple[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for lead_id, points in rows:
        out[lead_id] = out.get(lead_id, 0) + points
    return out


def _add_to_totals(group: ScoreGroup, deltas: dict[int, int]) -> Changes:
    """Add engagement points to the leads' totals in `group`, one statement: the lead row
    for the primary group (rows locked in id order, as the pipeline's lead write does, so
    the two cannot deadlock), `LeadGroupScore` for the others. The total moves by the
    points times the group's engagement weight (1 when unset). The fit grade does not
    move: decay is engagement. Returns {lead: {group: (total before, after)}}."""
    if not deltas:
        return {}
    weight = 1 if group.weight_engagement is None else group.weight_engagement
    ids = sorted(deltas)
    points = [deltas[i] for i in ids]
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if group.is_primary and postgresql:
            cursor.execute(
                "WITH c AS MATERIALIZED (SELECT l.id, v.d FROM leads_lead AS l "
                "  JOIN unnest(%(ids)s::bigint[], %(d)s::int[]) AS v(id, d) ON v.id = l.id "
                "  WHERE l.id BETWEEN %(lo)s AND %(hi)s AND l.id = ANY(%(ids)s::bigint[]) "
                "  ORDER BY l.id FOR NO KEY UPDATE OF l) "
                "UPDATE leads_lead AS l SET engagement_score = l.engagement_score + c.d, "
                "score = l.score + c.d * %(w)s FROM c WHERE l.id = c.id "
                "RETURNING l.id, l.score",
                {"ids": int_array(ids), "d": int_array(points), "w": weight,
                 "lo": ids[0], "hi": ids[-1]})  # the bounds let the planner use the key
        elif group.is_primary:
            cursor.execute(
                "UPDATE leads_lead SET engagement_score = engagement_score + v.d, "
                "score = score + v.d * %s FROM (SELECT json_extract(value, '$[0]') AS id, "
                "  json_extract(value, '$[1]') AS d FROM json_each(%s)) AS v "
                "WHERE leads_lead.id = v.id RETURNING leads_lead.id, leads_lead.score",
                [weight, json.dumps(list(zip(ids, points, strict=True)))])
        else:
            values = ("SELECT v.id, %s, v.d * %s, 0, v.d, 0, '' FROM unnest(%s::bigint[], "
                      "%s::int[]) AS v(id, d)" if postgresql else
                      "SELECT json_extract(value, '$[0]'), %s, "
                      "json_extract(value, '$[1]') * %s, 0, json_extract(value, '$[1]'), 0, "
                      "'' FROM json_each(%s) WHERE true")
            params: list[Any] = ([group.pk, weight, int_array(ids), int_array(points)] if postgresql
                      else [group.pk, weight, json.dumps(list(zip(ids, points, strict=True)))])
            cursor.execute(
                "INSERT INTO scoring_leadgroupscore (lead_id, group_id, total, fit, "
                f"engagement, interest, grade) {values} ON CONFLICT (lead_id, group_id) "
                "DO UPDATE SET total = scoring_leadgroupscore.total + excluded.total, "
                "engagement = scoring_leadgroupscore.engagement + excluded.engagement "
                "RETURNING lead_id, total", params)
        after = cursor.fetchall()
    return {lead_id: {group.pk: (total - deltas[lead_id] * weight, total)}
            for lead_id, total in after}


def _merge(into: Changes, more: Changes) -> None:
    """Two passes over the same lead and group: the first's before, the last's after."""
    for lead_id, groups in more.items():
        mine = into.setdefault(lead_id, {})
        for group_id, (before, after) in groups.items():
            mine[group_id] = (mine[group_id][0], after) if group_id in mine else (before,
                                                                                  after)


def _aware(value: Any) -> datetime:
    """A datetime read by a raw query (SQLite gives text), as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC
        value = value.replace(tzinfo=UTC)
    return value
