"""Background work that every worker looks for on each tick: each job claims its due rows
through core.workqueue (imports queued or left by a dead worker, campaign steps, the email
outbox; score decay and SLA timers join here), so any number of workers may tick at once
and work whose wake-up task was lost, or whose worker died, is still done."""

from __future__ import annotations

import logging

from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

# Campaign steps queue emails, so the outbox comes after them.
JOBS = (
    "leadflow.imports.services.run_due_jobs",
    "leadflow.campaigns.services.run_due_enrollments",
    "leadflow.emails.outbox.send_due",
    "leadflow.leads.retention.erase_due_automatically",
)


def tick(worker: str = "") -> int:
    """Run every periodic job once; returns how many pieces of work they did. `worker`
    names the claims (seen in `claimed_by` while a row is held)."""
    _recycle_connection()
    done = 0
    for path in JOBS:
        try:
            done += import_string(path)(worker=worker) or 0
        except Exception:
            log.exception("periodic job %s failed", path)
    _recycle_connection()
    return done


def _recycle_connection() -> None:
    # A long-lived worker drops broken or expired connections between ticks; inside a
    # caller's transaction (a test, a management shell) closing would break the caller.
    if not connection.in_atomic_block:
        close_old_connections()
