"""Time-based work that every worker looks for on each tick (campaign waits now; score
decay and SLA timers join here). Each job claims its rows atomically, so any number of
workers may tick at once."""

from __future__ import annotations

import logging

from django.db import close_old_connections
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

JOBS = ("leadflow.campaigns.services.run_due_enrollments",)


def tick() -> int:
    """Run every periodic job once; returns how many pieces of work they did."""
    close_old_connections()
    done = 0
    for path in JOBS:
        try:
            done += import_string(path)() or 0
        except Exception:
            log.exception("periodic job %s failed", path)
    close_old_connections()
    return done
