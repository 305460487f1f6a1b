"""The lead columns derived from each batch of events (last touch, score totals), written
once per batch: one UPDATE for every lead the batch concerns, whatever its size.

Each lead row carries a dozen indexes; writing it twice per batch (touch, then score) was
the largest single cost of ingesting events. For the same reason the leads a batch creates
(an import) are inserted here, once, with their points, rather than inserted then updated.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection

from leadflow.core.sqlarrays import int_array, time_array
from leadflow.leads.bulk import insert_leads

if TYPE_CHECKING:
    from leadflow.core.pipeline import Batch

SCORE_COLUMNS = ("fit_score", "engagement_score", "interest_score")


def on_events(batch: Batch) -> None:
    """Pipeline step: move each lead's last touch to its latest event in the batch (never
    back; not for what we did to it, its creation, nor a machine's open or click of its
    email), add the points scoring found,
    and note the written (stage, score) of the leads that gained points in
    `batch.scored`. The batch's new leads are inserted here, with all of that applied."""
    from leadflow.tracking.events import is_machine
    from leadflow.tracking.models import EventType

    touched: dict[int, datetime] = {}
    for e in batch.events:
        if e.lead_id is None or e.type in EventType.KEEP_LAST_TOUCH or is_machine(e):
            continue
        at = touched.get(e.lead_id)
        if at is None or e.occurred_at > at:
            touched[e.lead_id] = e.occurred_at
    if batch.new_leads:
        _insert_new(batch, touched)
    if not touched and batch.score_deltas.keys() <= batch.new_leads.keys():
        return
    if connection.vendor == "postgresql":
        _write_postgresql(batch, touched)
    else:
        _write_elsewhere(batch, touched)


# The values join the leads once, where the rows are locked, and travel on with them.
# Joined again in the UPDATE, the planner (expecting a handful of rows from the lock, fewer
# as the table grows) scanned the values once per lead: a quadratic plan, 250 ms a batch
# at 120,000 leads. From the lock, each lead is now fetched by its key. `l.id = ANY(ids)`
# lets PostgreSQL find the leads to lock by their index (joined to the values alone, it
# hashed the whole table). Only the rows that change are locked: a lock writes to the row.
UPDATE_POSTGRESQL = (
    "WITH c AS MATERIALIZED (SELECT l.id, v.at, v.fit, v.eng, v.int "
    "  FROM leads_lead AS l JOIN unnest(%(ids)s::bigint[], %(at)s::timestamptz[], "
    "    %(fit)s::int[], %(eng)s::int[], %(int)s::int[]) AS v(id, at, fit, eng, int) "
    "  ON v.id = l.id WHERE l.id = ANY(%(ids)s::bigint[]) "
    "  AND (v.fit <> 0 OR v.eng <> 0 OR v.int <> 0 OR l.last_touch_at IS NULL "
    "    OR l.last_touch_at < v.at) "
    "  ORDER BY l.id FOR NO KEY UPDATE OF l) "
    "UPDATE leads_lead AS l SET last_touch_at = GREATEST(l.last_touch_at, c.at), "
    "score = CASE WHEN c.fit <> 0 OR c.eng <> 0 OR c.int <> 0 THEN "
    "  (l.fit_score + c.fit) * %(wf)s + (l.engagement_score + c.eng) * %(we)s "
    "  + (l.interest_score + c.int) * %(wi)s ELSE l.score END, "
    "grade = CASE WHEN NOT %(grade)s OR (c.fit = 0 AND c.eng = 0 AND c.int = 0) THEN l.grade "
    "  WHEN l.fit_score + c.fit >= %(ga)s THEN 'A' WHEN l.fit_score + c.fit >= %(gb)s THEN 'B' "
    "  WHEN l.fit_score + c.fit >= %(gc)s THEN 'C' ELSE 'D' END, "
    "fit_score = l.fit_score + c.fit, "
    "engagement_score = l.engagement_score + c.eng, "
    "interest_score = l.interest_score + c.int "
    "FROM c WHERE l.id = c.id "
    "RETURNING l.id, l.stage, l.score"
)


def _write_postgresql(batch: Batch, touched: dict[int, datetime]) -> None:
    """One statement, the values as arrays (a constant query text). The rows are locked in
    id order first: the UPDATE alone locks them in whatever order its plan reads them, and
    two concurrent batches sharing leads could deadlock."""
    ids, times, (fit, eng, int_) = _columns(batch, touched)
    with connection.cursor() as cursor:
        cursor.execute(
            UPDATE_POSTGRESQL,
            {"ids": int_array(ids), "at": time_array(times), "fit": int_array(fit),
             "eng": int_array(eng), "int": int_array(int_), **_formula(batch)})
        _note_scored(batch, cursor.fetchall())


def _write_elsewhere(batch: Batch, touched: dict[int, datetime]) -> None:
    """SQLite: the same single statement, the values travelling as one JSON array (SQLite
    has no arrays; it locks the whole database for a write, so no row locks are needed)."""
    ids, times, columns = _columns(batch, touched)
    adapt = connection.ops.adapt_datetimefield_value  # the text Django stores
    rows = [[i, adapt(at) if at is not None else None, *points]
            for i, at, *points in zip(ids, times, *columns, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead SET last_touch_at = CASE WHEN v.at IS NOT NULL AND "
            "  (last_touch_at IS NULL OR last_touch_at < v.at) THEN v.at "
            "  ELSE last_touch_at END, "
            "score = CASE WHEN v.fit <> 0 OR v.eng <> 0 OR v.int <> 0 THEN "
            "  (fit_score + v.fit) * %(wf)s + (engagement_score + v.eng) * %(we)s "
            "  + (interest_score + v.int) * %(wi)s ELSE score END, "
            "grade = CASE WHEN NOT %(grade)s OR (v.fit = 0 AND v.eng = 0 AND v.int = 0) "
            "  THEN grade WHEN fit_score + v.fit >= %(ga)s THEN 'A' "
            "  WHEN fit_score + v.fit >= %(gb)s THEN 'B' "
            "  WHEN fit_score + v.fit >= %(gc)s THEN 'C' ELSE 'D' END, "
            "fit_score = fit_score + v.fit, "
            "engagement_score = engagement_score + v.eng, "
            "interest_score = interest_score + v.int "
            "FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS at, "
            "  json_extract(value, '$[2]') AS fit, json_extract(value, '$[3]') AS eng, "
            "  json_extract(value, '$[4]') AS int FROM json_each(%(rows)s)) AS v "
            "WHERE leads_lead.id = v.id AND (v.fit <> 0 OR v.eng <> 0 OR v.int <> 0 "
            "  OR (v.at IS NOT NULL AND (last_touch_at IS NULL OR last_touch_at < v.at))) "
            "RETURNING leads_lead.id, leads_lead.stage, leads_lead.score",
            {"rows": json.dumps(rows), **_formula(batch)})
        _note_scored(batch, cursor.fetchall())


def _insert_new(batch: Batch, touched: dict[int, datetime]) -> None:
    """Apply the batch to its new leads in memory, then insert them (their touch times
    are taken out of `touched`: nothing is left to update)."""
    for pk, lead in batch.new_leads.items():
        at = touched.pop(pk, None)
        if at is not None and (lead.last_touch_at is None or lead.last_touch_at < at):
            lead.last_touch_at = at
        if deltas := batch.score_deltas.get(pk):
            for column, points in deltas.items():
                setattr(lead, column, getattr(lead, column) + points)
            wf, we, wi, *cut_offs = batch.score_formula or (1, 1, 1)
            lead.score = (lead.fit_score * wf + lead.engagement_score * we
                          + lead.interest_score * wi)
            if cut_offs:
                lead.grade = next((grade for grade, least in zip("ABC", cut_offs,
                                                                  strict=True)
                                   if lead.fit_score >= least), "D")
            batch.scored[pk] = (lead.stage, lead.score)
    insert_leads(list(batch.new_leads.values()))


def _formula(batch: Batch) -> dict[str, Any]:
    """How the primary score group totals its dimensions and grades fit (set by scoring;
    without it, the plain sum and the grade left as it is)."""
    wf, we, wi, ga, gb, gc = batch.score_formula or (1, 1, 1, 0, 0, 0)
    return {"wf": wf, "we": we, "wi": wi, "ga": ga, "gb": gb, "gc": gc,
            "grade": batch.score_formula is not None}


def _columns(batch: Batch, touched: dict[int, datetime]
             ) -> tuple[list[int], list[datetime | None], list[list[int]]]:
    """The leads concerned (not the new ones: written already), in id order; their new
    touch times (None: no change); and the points per score column (SCORE_COLUMNS
    order)."""
    deltas = batch.score_deltas
    ids = sorted((touched.keys() | deltas.keys()) - batch.new_leads.keys())
    none: dict[str, int] = {}
    return ids, [touched.get(i) for i in ids], [
        [deltas.get(i, none).get(name, 0) for i in ids] for name in SCORE_COLUMNS]


def _note_scored(batch: Batch, rows: list[tuple[int, str, int]]) -> None:
    """Keep (stage, score) as written for the leads that gained or lost points."""
    batch.scored.update((pk, (stage, score)) for pk, stage, score in rows
                        if pk in batch.score_deltas)
