"""Full rebuilds run in the background, never in a web request: at a million leads a
rebuild is seconds of work.

Creating a segment, giving it a new filter (or switching it back on) and "rebuild now"
only mark it `building` (`queue`, in the caller's transaction: due now, attempts back to
0) and wake a worker after the commit. A worker claims it through core.workqueue
(lease, attempts, backoff), recomputes its members (`membership.rebuild`, a handful of
set-based statements whatever the number of leads) and marks it `built`, in one
transaction, so that `membership_changed` tells the campaigns who entered and left as the
rebuild commits. An attempt that fails is tried again after a backoff; after the last one
the segment is `failed`, its error in `build_error` (its page, the API). A lost wake-up or
a dead worker leaves it due: the periodic tick builds it (`run_due`).

Ordering: the worker takes the segment's advisory lock exclusively and only then reads
the segment again; if a new filter was saved since its claim (the save drops the claim)
or another worker took the claim over, it leaves the segment to that later build. The
incremental refresh leaves a segment that is not built alone (membership.refresh_leads
reads the state under the same lock): the pending rebuild reads every lead after the
refreshes before it, and supersedes them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction

from leadflow.core import failpoints, workqueue
from leadflow.segments import membership, queries
from leadflow.segments.dirty import mark_dirty
from leadflow.segments.models import Segment

log = logging.getLogger(__name__)

# A rebuild is a few statements that cannot renew their lease as they go: long enough
# for the largest, short enough that a dead worker's segment is built again soon.
LEASE = timedelta(minutes=10)
# What `queue` changes, for the caller's save(update_fields=...).
QUEUED_FIELDS = ["build_state", "build_requested_at", "build_due_at", "build_error",
                 "attempts", "claimed_by"]


def queue(segment: Segment, now: datetime) -> list[str]:
    """Mark the segment to be rebuilt by a worker (the caller saves the fields returned,
    in its transaction) and wake one after the commit. A build running now loses its
    claim: whatever it writes, the segment stays `building` until the next build, which
    reads what was just saved."""
    segment.build_state = Segment.BuildState.BUILDING
    segment.build_requested_at = now
    segment.build_due_at = now
    segment.build_error = ""
    segment.attempts = 0
    segment.claimed_by = ""
    # Once per transaction: the callback is on the connection's list until it commits.
    if not (connection.in_atomic_block and any(entry[1] is _wake
                                               for entry in connection.run_on_commit)):
        transaction.on_commit(_wake)
    return QUEUED_FIELDS


def _wake() -> None:
    from leadflow.segments.tasks import build_segments_task

    try:
        build_segments_task.enqueue()
    except Exception:  # the periodic tick builds it anyway
        log.exception("could not enqueue build_segments_task")


def build(segment: Segment) -> tuple[list[int], list[int]]:
    """Recompute the segment's members from its filter and overrides now (the worker's
    part; benchmarks call it to time the rebuild alone). Returns (entered, left)."""
    with transaction.atomic():
        entered, left = membership.rebuild(segment)
        # Segments reading this one see the change through their own refresh.
        if (entered or left) and any(s.active for s in queries.readers_of(segment)):
            mark_dirty([*entered, *left])
    return entered, left


def run_due(*, worker: str = "") -> int:
    """Periodic job (and the wake-up task): build the segments waiting for a rebuild, one
    claim at a time. Returns how many were built."""
    built = 0
    while claim := workqueue.claim(
            Segment.objects.filter(build_state=Segment.BuildState.BUILDING), limit=1,
            lease=LEASE, worker=worker, exhausted=_gave_up):
        built += _run(claim) == "built"
    return built


def _run(claim: workqueue.Claim) -> str:
    pk = claim.ids[0]
    try:
        with transaction.atomic():
            membership.lock([pk], shared=False)
            segment = Segment.objects.filter(pk=pk, claimed_by=claim.token).first()
            if segment is None:  # a new filter since the claim, or another worker's now
                return "lost"
            build(segment)
            workqueue.done(claim, pk, build_state=Segment.BuildState.BUILT, build_error="")
            failpoints.hit("segment.rebuild")  # written and announced, not committed
    except Exception as exc:
        log.exception("segment %s: rebuild failed (attempt %s)", pk, claim.attempts.get(pk))
        final = _failed(claim, pk, f"{type(exc).__name__}: {exc}")
        return "lost" if final is None else "failed" if final else "retrying"
    return "built"


def _failed(claim: workqueue.Claim, pk: int, error: str) -> bool | None:
    return workqueue.retry(claim, pk, error,
                           final={"build_state": Segment.BuildState.FAILED})


def _gave_up(claim: workqueue.Claim) -> None:
    for pk in claim.ids:
        _failed(claim, pk, "the worker stopped during the last attempt")
