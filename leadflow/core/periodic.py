"""Time-based work that every worker looks for on each tick (campaign waits now; score
decay and SLA timers join here). Each job claims its rows atomically, so any number of
workers may tick at once."""

from __future__ import annotations

import logging

from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

JOBS = (
    "leadflow.campaigns.services.run_due_enrollments",
    "leadflow.leads.retention.erase_due_automatically",
)


def tick() -> int:
    """Run every periodic job once; returns how many pieces of work they did."""
    _recycle_connection()
    done = 0
    for path in JOBS:
        try:
            done += import_string(path)() or 0
        except Exception:
            log.exception("periodic job %s failed", path)
    _recycle_connection()
    return done


def _recycle_connection() -> None:
    # A long-lived worker drops broken or expired connections between ticks; inside a
    # caller's transaction (a test, a management shell) closing would break the caller.
    if not connection.in_atomic_block:
        close_old_connections()
