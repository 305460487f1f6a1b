"""The queue of leads whose memberships may have changed (DirtyLead), written by the
pipeline step, the hooks, the clock job and the rebuilds of segments others read; the
refresh job (services.refresh_due) takes it. A worker is woken after the commit."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction

from leadflow.core.sqlarrays import int_array
from leadflow.segments.models import DirtyLead

log = logging.getLogger(__name__)


def mark_dirty(lead_ids: Any, cause: str = "event") -> None:
    """Queue leads to be re-evaluated by the refresh job (one statement); wake a worker
    after the commit."""
    ids = sorted(set(lead_ids))
    if not ids:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO segments_dirtylead (lead_id, cause) "
                           "SELECT unnest(%s::bigint[]), %s", [int_array(ids), cause])
    else:
        DirtyLead.objects.bulk_create([DirtyLead(lead_id=pk, cause=cause) for pk in ids],
                                      batch_size=2000)
    _kick()


def _kick() -> None:
    # Once per transaction: the callback is on the connection's list until it commits.
    if connection.in_atomic_block and any(entry[1] is _wake
                                          for entry in connection.run_on_commit):
        return
    transaction.on_commit(_wake)


def _wake() -> None:
    from leadflow.segments.tasks import refresh_segments_task

    try:
        refresh_segments_task.enqueue()
    except Exception:  # the periodic tick refreshes anyway
        log.exception("could not enqueue refresh_segments_task")
