"""Writing membership: the full rebuild of one segment, the re-evaluation of a batch of
leads against every active segment, and the writes both share (members, history,
count, signal), all set-based.

Membership is (filter matches and no override) or an include override; never an erased
lead. Every change is a SegmentChange row, moves `member_count` and is announced by
`signals.membership_changed` inside the transaction. The rebuild runs in a worker
(segments.builds); the refresh leaves a segment waiting for it alone.

Concurrency (PostgreSQL): a rebuild holds its segment's advisory lock exclusively, the
refresh of a batch holds the locks of the segments it evaluates shared (and reads their
filters and states under them), so refreshes run side by side and a rebuild waits for
them (and they for it). Member rows are written
with ON CONFLICT DO NOTHING / DELETE ... RETURNING, and only what a statement really
changed is recorded and counted, so two workers evaluating the same lead at once change
it once. Counts are moved last, in segment id order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from leadflow.core import clock
from leadflow.core.sqlarrays import int_array
from leadflow.segments import filters, signals
from leadflow.segments.filters import L, among_sql
from leadflow.segments.models import Segment, SegmentChange, SegmentMember, SegmentOverride

if TYPE_CHECKING:
    Reason = Callable[[int, bool], str]

# pg_advisory_xact_lock(SEGMENT_LOCK, segment id)
SEGMENT_LOCK = 71_020
REBUILD = "rebuild"
ENTERED, LEFT, TIME = "filter", "no longer matches", "time window expired"
# The memory a rebuild's hash joins may take (PostgreSQL): a segment of a million leads
# hashes a million ids; past work_mem the planner falls back to far slower plans.
REBUILD_WORK_MEM = "256MB"


def lock(segment_ids: Iterable[int], *, shared: bool) -> None:
    """Hold the segments' advisory locks until the transaction ends: shared while
    re-evaluating leads, exclusively for a rebuild (or while a campaign takes in the
    members, so that every lead is among them or announced after)."""
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers by itself
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        for pk in sorted(set(segment_ids)):
            cursor.execute(f"SELECT {function}(%s, %s)", [SEGMENT_LOCK, pk])


# --- full rebuild ---------------------------------------------------------------------

def rebuild(segment: Segment, *, reason: str = REBUILD) -> tuple[list[int], list[int]]:
    """Recompute the segment's members from its filter and overrides: a handful of
    statements whatever its size. Returns (entered, left) lead ids."""
    with transaction.atomic():
        lock([segment.pk], shared=False)
        now = clock.now()
        pg = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            if pg:
                cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")
            _fill_target(cursor, segment, now)
            left = _remove_leavers(cursor, segment.pk, now, reason)
            entered = _add_entrants(cursor, segment.pk, now, reason)
            cursor.execute("SELECT COUNT(*) FROM segment_target")
            count = cursor.fetchone()[0]
            cursor.execute("DROP TABLE segment_target")
        Segment.objects.filter(pk=segment.pk).update(member_count=count, last_rebuilt_at=now,
                                                     time_checked_at=now)
        segment.member_count, segment.last_rebuilt_at = count, now
        segment.time_checked_at = now
        if entered or left:
            signals.membership_changed.send(sender=Segment, segment_id=segment.pk,
                                            entered=entered, left=left)
    return entered, left


def _fill_target(cursor: Any, segment: Segment, now: datetime) -> None:
    """The members the segment should have, in the temporary table segment_target:
    the leads the filter matches that have no override, and the leads included by
    hand (manual)."""
    where, params = filters.compile_filter(segment.filter, now=now)
    cursor.execute("DROP TABLE IF EXISTS segment_target")
    target = (
        f"SELECT {L}.id AS lead_id, %s AS manual FROM {L} "  # noqa: S608
        f"WHERE {L}.erased_at IS NULL AND {where} AND NOT EXISTS (SELECT 1 FROM "
        f"segments_segmentoverride AS o WHERE o.segment_id = %s AND o.lead_id = {L}.id) "
        "UNION ALL SELECT o.lead_id, %s FROM segments_segmentoverride AS o JOIN leads_lead "
        "AS l2 ON l2.id = o.lead_id WHERE o.segment_id = %s AND o.include = %s "
        "AND l2.erased_at IS NULL")
    target_params = [False, *params, segment.pk, True, segment.pk, True]
    if connection.vendor == "postgresql":
        # CREATE TABLE AS may scan the events with parallel workers; INSERT ... SELECT
        # may not (a data-modifying statement): half the time of a large rebuild.
        cursor.execute(f"CREATE TEMPORARY TABLE segment_target ON COMMIT DROP AS {target}",
                       target_params)
        cursor.execute("ANALYZE segment_target")
    else:
        cursor.execute("CREATE TEMPORARY TABLE segment_target (lead_id integer PRIMARY KEY, "
                       "manual boolean NOT NULL)")
        cursor.execute(f"INSERT INTO segment_target (lead_id, manual) {target}",
                       target_params)


def _remove_leavers(cursor: Any, segment_id: int, now: datetime, reason: str) -> list[int]:
    gone = ("DELETE FROM segments_segmentmember AS m WHERE m.segment_id = %s AND NOT EXISTS "
            "(SELECT 1 FROM segment_target AS t WHERE t.lead_id = m.lead_id) "
            "RETURNING m.lead_id")
    if connection.vendor == "postgresql":
        cursor.execute(
            f"WITH gone AS ({gone}), h AS (INSERT INTO segments_segmentchange "  # noqa: S608
            "(segment_id, lead_id, entered, at, reason) SELECT %s, lead_id, false, %s, %s "
            "FROM gone) SELECT lead_id FROM gone", [segment_id, segment_id, now, reason])
        return sorted(row[0] for row in cursor.fetchall())
    cursor.execute(gone.replace("AS m ", "").replace("m.", "segments_segmentmember."),
                   [segment_id])
    left = sorted(row[0] for row in cursor.fetchall())
    _history(segment_id, left, entered=False, now=now, reason=lambda *_: reason)
    return left


def _add_entrants(cursor: Any, segment_id: int, now: datetime, reason: str) -> list[int]:
    new = ("INSERT INTO segments_segmentmember (segment_id, lead_id, since, manual) "
           "SELECT %s, t.lead_id, %s, t.manual FROM segment_target AS t WHERE NOT EXISTS "
           "(SELECT 1 FROM segments_segmentmember AS m WHERE m.segment_id = %s "
           "AND m.lead_id = t.lead_id) ORDER BY t.lead_id ON CONFLICT DO NOTHING "
           "RETURNING lead_id")
    if connection.vendor == "postgresql":
        cursor.execute(
            f"WITH new AS ({new}), h AS (INSERT INTO segments_segmentchange "  # noqa: S608
            "(segment_id, lead_id, entered, at, reason) SELECT %s, lead_id, true, %s, %s "
            "FROM new) SELECT lead_id FROM new",
            [segment_id, now, segment_id, segment_id, now, reason])
        return sorted(row[0] for row in cursor.fetchall())
    adapt = connection.ops.adapt_datetimefield_value
    cursor.execute(new, [segment_id, adapt(now), segment_id])
    entered = sorted(row[0] for row in cursor.fetchall())
    _history(segment_id, entered, entered=True, now=now, reason=lambda *_: reason)
    return entered


# --- the shared writes ------------------------------------------------------------------

def _history(segment_id: int, lead_ids: Sequence[int], *, entered: bool, now: datetime,
             reason: Reason) -> None:
    if lead_ids:
        SegmentChange.objects.bulk_create(
            [SegmentChange(segment_id=segment_id, lead_id=pk, entered=entered, at=now,
                           reason=reason(pk, entered)[:200]) for pk in lead_ids],
            batch_size=2000)


def write(segment_id: int, *, enter: dict[int, bool], leave: Sequence[int], now: datetime,
          reason: Reason) -> tuple[list[int], list[int]]:
    """Add the leads of `enter` (lead id -> manual) and take those of `leave` out, with
    their history and the signal; the count is the caller's (`move_counts`). Returns
    what really changed: (entered, left)."""
    entered: list[int] = []
    left: list[int] = []
    with connection.cursor() as cursor:
        if enter:
            ids = sorted(enter)
            if connection.vendor == "postgresql":
                cursor.execute(
                    "INSERT INTO segments_segmentmember (segment_id, lead_id, since, manual) "
                    "SELECT %s, v.id, %s, v.manual FROM unnest(%s::bigint[], %s::boolean[]) "
                    "AS v(id, manual) ORDER BY v.id ON CONFLICT DO NOTHING RETURNING lead_id",
                    [segment_id, now, int_array(ids),
                     "{" + ",".join("t" if enter[i] else "f" for i in ids) + "}"])
            else:
                rows = ", ".join(["(%s, %s, %s, %s)"] * len(ids))
                adapt = connection.ops.adapt_datetimefield_value(now)
                cursor.execute(
                    "INSERT INTO segments_segmentmember (segment_id, lead_id, since, manual) "  # noqa: S608
                    f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING lead_id",  # noqa: S608
                    [v for i in ids for v in (segment_id, i, adapt, enter[i])])
            entered = sorted(row[0] for row in cursor.fetchall())
        if leave:
            where, params = among_sql("lead_id", sorted(leave))
            cursor.execute("DELETE FROM segments_segmentmember WHERE segment_id = %s "  # noqa: S608
                           f"AND {where} RETURNING lead_id", [segment_id, *params])
            left = sorted(row[0] for row in cursor.fetchall())
    _history(segment_id, entered, entered=True, now=now, reason=reason)
    _history(segment_id, left, entered=False, now=now, reason=reason)
    if entered or left:
        signals.membership_changed.send(sender=Segment, segment_id=segment_id,
                                        entered=entered, left=left)
    return entered, left


def move_counts(deltas: dict[int, int]) -> None:
    """member_count += delta, segment by segment in id order (the row locks' order)."""
    for pk in sorted(deltas):
        if deltas[pk]:
            with connection.cursor() as cursor:
                cursor.execute("UPDATE segments_segment SET member_count = member_count + %s "
                               "WHERE id = %s", [deltas[pk], pk])


# --- re-evaluating a batch of leads ---------------------------------------------------------

def in_order(segments: list[Segment]) -> list[Segment]:
    """The segments with those each one reads first (filters.validate refuses loops)."""
    by_id = {s.pk: s for s in segments}
    done: set[int] = set()
    out: list[Segment] = []

    def visit(segment: Segment, path: frozenset[int]) -> None:
        if segment.pk in done or segment.pk in path:
            return
        for pk in segment.reads_segments or ():
            if pk in by_id:
                visit(by_id[pk], path | {segment.pk})
        done.add(segment.pk)
        out.append(segment)

    for segment in sorted(segments, key=lambda s: s.pk):
        visit(segment, frozenset())
    return out


def refresh_leads(lead_ids: Sequence[int], causes: dict[int, str] | None = None,
                  segments: list[Segment] | None = None) -> int:
    """Re-evaluate these leads against every active segment (or those of `segments`
    still active) that is built, in the caller's transaction: a few queries per segment
    whatever the number of leads.
    `causes` (lead id -> "time") words the history; returns how many memberships
    changed."""
    ids = sorted(set(lead_ids))
    seg_ids = [s.pk for s in segments] if segments is not None else list(
        Segment.objects.filter(active=True).values_list("pk", flat=True))
    if not ids or not seg_ids:
        return 0
    lock(seg_ids, shared=True)
    # Read under the locks: a rebuild that committed meanwhile may have changed the
    # filter or the state. A segment not built is its pending rebuild's, which reads
    # every lead after this and supersedes it (segments.builds).
    segments = list(Segment.objects.filter(pk__in=seg_ids, active=True,
                                           build_state=Segment.BuildState.BUILT))
    if not segments:
        return 0
    seg_ids = [s.pk for s in segments]
    where, params = among_sql("lead_id", ids)
    seg_where, seg_params = among_sql("segment_id", seg_ids)
    with connection.cursor() as cursor:
        cursor.execute("SELECT segment_id, lead_id, include FROM segments_segmentoverride "  # noqa: S608
                       f"WHERE {seg_where} AND {where}", [*seg_params, *params])
        overrides = {(s, lead): bool(inc) for s, lead, inc in cursor.fetchall()}
        cursor.execute("SELECT segment_id, lead_id FROM segments_segmentmember "  # noqa: S608
                       f"WHERE {seg_where} AND {where}", [*seg_params, *params])
        current: dict[int, set[int]] = {pk: set() for pk in seg_ids}
        for s, lead in cursor.fetchall():
            current[s].add(lead)
        alive_where, alive_params = among_sql(f"{L}.id", ids)
        cursor.execute(f"SELECT id FROM {L} WHERE {alive_where} "  # noqa: S608
                       f"AND {L}.erased_at IS NULL", alive_params)
        alive = {row[0] for row in cursor.fetchall()}
    causes = causes or {}
    now = clock.now()

    def reason(lead_id: int, entered: bool) -> str:
        if causes.get(lead_id) == "time":
            return TIME
        return ENTERED if entered else LEFT

    deltas: dict[int, int] = {}
    changed = 0
    for segment in in_order(segments):
        matched = filters.matching_among(segment.filter, ids)
        target = {pk: False for pk in matched if (segment.pk, pk) not in overrides}
        target.update({pk: True for pk in alive if overrides.get((segment.pk, pk)) is True})
        have = current[segment.pk]
        entered, left = write(segment.pk, enter={pk: m for pk, m in target.items()
                                                 if pk not in have},
                              leave=sorted(have - target.keys()), now=now, reason=reason)
        deltas[segment.pk] = len(entered) - len(left)
        changed += len(entered) + len(left)
    move_counts(deltas)
    return changed


def set_overrides(segment: Segment, lead_ids: Sequence[int], *, include: bool, by: str,
                  reason: str) -> tuple[list[int], list[int]]:
    """Include (or exclude) these leads whatever the filter, and move them in (or out)
    now. Returns (entered, left)."""
    ids = sorted(set(lead_ids))
    if not ids:
        return [], []
    now = clock.now()
    with transaction.atomic():
        lock([segment.pk], shared=True)
        SegmentOverride.objects.bulk_create(
            [SegmentOverride(segment=segment, lead_id=pk, include=include, by=by[:150], at=now)
             for pk in ids], update_conflicts=True, unique_fields=["segment", "lead"],
            update_fields=["include", "by", "at"], batch_size=2000)
        members = SegmentMember.objects.filter(segment=segment, lead_id__among=ids)
        if include:
            members.update(manual=True)
            entered, left = write(segment.pk, enter=dict.fromkeys(ids, True), leave=[],
                                  now=now, reason=lambda *_: reason)
        else:
            entered, left = write(segment.pk, enter={}, leave=ids, now=now,
                                  reason=lambda *_: reason)
        move_counts({segment.pk: len(entered) - len(left)})
    return entered, left
