"""The lead columns derived from each batch of events (last touch, score totals), written
once per batch: one UPDATE for every lead the batch concerns, whatever its size.

Each lead row carries a dozen indexes; writing it twice per batch (touch, then score) was
the largest single cost of ingesting events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import F, Max, OuterRef, Q, Subquery

from leadflow.core.sqlarrays import int_array, time_array
from leadflow.leads.models import Lead

if TYPE_CHECKING:
    from leadflow.core.pipeline import Batch

SCORE_COLUMNS = ("fit_score", "engagement_score", "interest_score")


def on_events(batch: Batch) -> None:
    """Pipeline step: move each lead's last touch to its latest event in the batch (never
    back, and not for what we did to it), add the points scoring found, and note the
    written (stage, score) of the leads that gained points in `batch.scored`."""
    from leadflow.tracking.models import EventType

    touched: dict[int, datetime] = {}
    for e in batch.events:
        if e.lead_id is None or e.type in EventType.OUR_ACTIONS:
            continue
        at = touched.get(e.lead_id)
        if at is None or e.occurred_at > at:
            touched[e.lead_id] = e.occurred_at
    if not touched and not batch.score_deltas:
        return
    if connection.vendor == "postgresql":
        _write_postgresql(batch, touched)
    else:
        _write_elsewhere(batch, touched)


def _write_postgresql(batch: Batch, touched: dict[int, datetime]) -> None:
    """One statement, the values as arrays (a constant query text). The rows are locked in
    id order first: the UPDATE alone locks them in whatever order its plan reads them, and
    two concurrent batches sharing leads could deadlock."""
    deltas = batch.score_deltas
    ids = sorted(touched.keys() | deltas.keys())
    none: dict[str, int] = {}
    cols = [int_array(deltas.get(i, none).get(name, 0) for i in ids) for name in SCORE_COLUMNS]
    with connection.cursor() as cursor:
        # `l.id = ANY(ids)` lets PostgreSQL fetch the leads by their index: joined to the
        # values alone, it hashed the whole table, twice (a cost growing with the table).
        cursor.execute(
            "WITH v AS MATERIALIZED (SELECT * FROM unnest(%(ids)s::bigint[], "
            "  %(at)s::timestamptz[], %(fit)s::int[], %(eng)s::int[], %(int)s::int[]) "
            "  AS v(id, at, fit, eng, int)), "
            # Only the rows that change are locked (a lock writes to the row, too).
            "locked AS MATERIALIZED (SELECT l.id FROM leads_lead AS l JOIN v ON v.id = l.id "
            "  WHERE l.id = ANY(%(ids)s::bigint[]) AND (v.fit <> 0 OR v.eng <> 0 "
            "  OR v.int <> 0 OR l.last_touch_at IS NULL OR l.last_touch_at < v.at) "
            "  ORDER BY l.id FOR NO KEY UPDATE OF l) "
            "UPDATE leads_lead AS l SET last_touch_at = GREATEST(l.last_touch_at, v.at), "
            "score = l.score + v.fit + v.eng + v.int, fit_score = l.fit_score + v.fit, "
            "engagement_score = l.engagement_score + v.eng, "
            "interest_score = l.interest_score + v.int "
            "FROM v JOIN locked ON locked.id = v.id "
            "WHERE l.id = v.id AND l.id = ANY(%(ids)s::bigint[]) "
            "RETURNING l.id, l.stage, l.score",
            {"ids": int_array(ids), "at": time_array(touched.get(i) for i in ids),
             "fit": cols[0], "eng": cols[1], "int": cols[2]})
        batch.scored = {pk: (stage, score) for pk, stage, score in cursor.fetchall()
                        if pk in deltas}


def _write_elsewhere(batch: Batch, touched: dict[int, datetime]) -> None:
    """SQLite (which locks the whole database for a write): a constant number of
    statements. Leads that gain the same points share one UPDATE."""
    from leadflow.tracking.models import Event, EventType

    if touched:
        newest = Subquery(
            Event.objects.filter(pk__among=[e.pk for e in batch.events], lead=OuterRef("pk"))
            .exclude(type__in=EventType.OUR_ACTIONS)
            .order_by().values("lead").annotate(at=Max("occurred_at")).values("at"))
        (Lead.objects.filter(pk__among=list(touched))
         .filter(Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=newest))
         .update(last_touch_at=newest))
    deltas = batch.score_deltas
    if not deltas:
        return
    groups: dict[tuple[tuple[str, int], ...], list[int]] = defaultdict(list)
    for lead_id, by_column in deltas.items():
        groups[tuple(sorted(by_column.items()))].append(lead_id)
    for delta, lead_ids in groups.items():
        total = sum(points for _, points in delta)
        updates = {name: F(name) + points for name, points in delta}
        Lead.objects.filter(pk__among=lead_ids).update(score=F("score") + total, **updates)
    batch.scored = {pk: (stage, score) for pk, stage, score in
                    Lead.objects.filter(pk__among=list(deltas))
                    .values_list("pk", "stage", "score")}
