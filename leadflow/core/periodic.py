"""Background work that every worker looks for on each tick: each job claims its due rows
through core.workqueue (imports queued or left by a dead worker, campaign steps, the email
outbox; score decay and SLA timers join here), so any number of workers may tick at once
and work whose wake-up task was lost, or whose worker died, is still done. The jobs are
wired by the composing layer (`leadflow.server.apps`): core names no app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

# Set once at start-up by configure(): each job takes the worker's name and returns how
# many pieces of work it did (or None).
_jobs: tuple[Callable[..., int | None], ...] = ()


def configure(jobs: Sequence[Callable[..., int | None]]) -> None:
    """Set the jobs, in the order one tick runs them (the server app does it in ready())."""
    global _jobs
    _jobs = tuple(jobs)


def tick(worker: str = "") -> int:
    """Run every periodic job once; returns how many pieces of work they did. `worker`
    names the claims (seen in `claimed_by` while a row is held)."""
    _recycle_connection()
    done = 0
    for job in _jobs:
        try:
            done += job(worker=worker) or 0
        except Exception:
            log.exception("periodic job %s.%s failed", job.__module__, job.__qualname__)
    _recycle_connection()
    return done


def _recycle_connection() -> None:
    # A long-lived worker drops broken or expired connections between ticks; inside a
    # caller's transaction (a test, a management shell) closing would break the caller.
    if not connection.in_atomic_block:
        close_old_connections()
