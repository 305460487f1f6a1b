"""The one clock every time-based rule reads (waits, decay, SLA timers).

Tests move time forward with `clock.travel(...)` or `clock.advance(...)` instead of
sleeping; production reads the system clock. The offset is process-wide on purpose: a
worker thread in the same test process must see the same time as the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.utils import timezone

_lock = threading.Lock()
_frozen: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """The current time (timezone-aware UTC), as seen by Leadflow's rules."""
    with _lock:
        if _frozen is not None:
            return _frozen
        return timezone.now() + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward (or back) by `delta`."""
    global _frozen, _offset
    with _lock:
        if _frozen is not None:
            _frozen += delta
        else:
            _offset += delta


@contextmanager
def travel(to: datetime | None = None, *, freeze: bool = True) -> Iterator[None]:
    """Within the block, time is `to` (default: now), frozen unless freeze=False."""
    global _frozen, _offset
    saved = (_frozen, _offset)
    start = to or now()
    with _lock:
        if freeze:
            _frozen, _offset = start, timedelta(0)
        else:
            _frozen, _offset = None, start - timezone.now()
    try:
        yield
    finally:
        with _lock:
            _frozen, _offset = saved


def reset() -> None:
    global _frozen, _offset
    with _lock:
        _frozen, _offset = None, timedelta(0)
