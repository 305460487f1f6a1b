"""Time windows: membership that changes with no event at all. "At least 6 page views
within 30 days" stops holding when the sixth-latest view turns 31 days old; "inactive
for 90 days" starts holding on the 90th silent day.

The periodic job `check_time_windows` runs every CLOCK_EVERY (claimed through
core.workqueue: one worker at a time) and, for each active time-dependent segment,
queues the leads whose window or threshold was crossed since it last looked: those with
an event of the condition's type that left the window in between (read through the event
table's (type, occurred_at) index), or whose last activity crossed the inactivity
threshold. The refresh job re-evaluates them like any queued lead, and their history
says "time window expired".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from leadflow.core import clock, workqueue
from leadflow.segments import language
from leadflow.segments.models import Segment, SegmentClock

CLOCK_EVERY = timedelta(seconds=30)
CLOCK_LEASE = timedelta(minutes=5)


def check_time_windows(worker: str = "") -> int:
    """Periodic job, every CLOCK_EVERY: queue the leads of time-dependent segments whose
    window or inactivity threshold was crossed since the last look, with no event (one
    statement per time condition, read through the event table's type-and-time index).
    Returns how many leads were queued."""
    if not Segment.objects.filter(active=True, time_dependent=True).exists():
        return 0
    SegmentClock.objects.bulk_create([SegmentClock(name="clock", due_at=clock.now())],
                                     ignore_conflicts=True)
    claim = workqueue.claim(SegmentClock.objects.all(), limit=1, lease=CLOCK_LEASE,
                            worker=worker, exhausted=_release_clock)
    if not claim:
        return 0
    try:
        queued = _queue_crossed(clock.now())
    except Exception as exc:
        attempt = claim.attempts.get(claim.ids[0], 1)
        workqueue.done(claim, claim.ids, due=clock.now() + workqueue.backoff(attempt),
                       last_error=str(exc)[:2000])
        raise
    workqueue.done(claim, claim.ids, due=clock.now() + CLOCK_EVERY, attempts=0,
                   last_error="")
    return queued


def _release_clock(claim: workqueue.Claim) -> None:
    workqueue.done(claim, claim.ids, due=clock.now() + CLOCK_EVERY, attempts=0)


def _queue_crossed(now: datetime) -> int:
    from leadflow.scoring.conditions import event_sql

    queued = 0
    adapt = connection.ops.adapt_datetimefield_value
    # A segment waiting for its rebuild is left to it (the rebuild reads every lead and
    # starts the windows over: time_checked_at).
    for segment in Segment.objects.filter(active=True, time_dependent=True,
                                          build_state=Segment.BuildState.BUILT):
        since = segment.time_checked_at or segment.last_rebuilt_at or now
        if since >= now:
            continue
        with transaction.atomic():
            for leaf in language.leaves(segment.filter):
                if "inactive_days" in leaf:
                    days = timedelta(days=leaf["inactive_days"])
                    sql = ("SELECT id FROM leads_lead WHERE erased_at IS NULL AND "
                           "COALESCE(last_touch_at, created_at) > %s AND "
                           "COALESCE(last_touch_at, created_at) <= %s")
                    params: list[Any] = [adapt(since - days), adapt(now - days)]
                else:
                    spec = language.behaviour(leaf)
                    if spec is None or spec.days is None:
                        continue
                    days = timedelta(days=spec.days)
                    where, params = event_sql(list(spec.where), "e.properties")
                    sql = ("SELECT DISTINCT e.lead_id FROM tracking_event AS e WHERE "  # noqa: S608
                           "e.type = %s AND e.occurred_at > %s AND e.occurred_at <= %s "
                           f"AND e.lead_id IS NOT NULL AND {where}")
                    params = [spec.type, adapt(since - days), adapt(now - days), *params]
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO segments_dirtylead (lead_id, cause) "  # noqa: S608
                                   f"SELECT q.*, 'time' FROM ({sql}) AS q", params)
                    queued += max(cursor.rowcount, 0)
            Segment.objects.filter(pk=segment.pk).update(time_checked_at=now)
    return queued
