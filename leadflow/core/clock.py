"""The one clock every time-based rule reads (waits, decay, SLA timers).

Tests move time forward with `clock.travel(...)` or `clock.advance(...)` instead of
sleeping; production reads the system clock. The offset is process-wide on purpose: a
worker thread in the same test process must see the same time as the test.

Worker *processes* share a test's clock through a file (a test-only hook): `share_file`
in the test writes the clock's state there on every change, and a process started with
LEADFLOW_CLOCK_FILE naming it (`follow_file`, at start-up) reads it again whenever the
file changes. Unset, `now()` costs one comparison more than the system clock.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

_lock = threading.Lock()
_frozen: datetime | None = None
_offset = timedelta(0)
# The shared clock file, if any, and the (inode, mtime) of the version last read.
_file: Path | None = None
_seen: tuple[int, int] | None = None
_last_written = 0


def now() -> datetime:
    """The current time (timezone-aware UTC), as seen by Leadflow's rules."""
    with _lock:
        if _file is not None:
            _follow()
        if _frozen is not None:
            return _frozen
        return timezone.now() + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward (or back) by `delta`."""
    with _lock:
        if _file is not None:
            _follow()
        if _frozen is not None:
            _set(_frozen + delta, _offset)
        else:
            _set(None, _offset + delta)


@contextmanager
def travel(to: datetime | None = None, *, freeze: bool = True) -> Iterator[None]:
    """Within the block, time is `to` (default: now), frozen unless freeze=False."""
    start = to or now()
    with _lock:
        saved = (_frozen, _offset)
        if freeze:
            _set(start, timedelta(0))
        else:
            _set(None, start - timezone.now())
    try:
        yield
    finally:
        with _lock:
            _set(*saved)


def reset() -> None:
    with _lock:
        _set(None, timedelta(0))


# --- the shared clock file (tests with worker processes) ---------------------------------

def share_file(path: Path | None) -> None:
    """From now on, write the clock's state to `path` on every change (starting with the
    current one), for the worker processes following it; None stops sharing."""
    with _lock:
        _use(path)
        if path is not None:
            _set(_frozen, _offset)


def follow_file(path: Path | None) -> None:
    """From now on, take the time from `path` (written by a test's `share_file`) whenever
    it changes; no file there means the system clock. None stops following."""
    with _lock:
        _use(path)


def read_file(path: Path) -> tuple[datetime | None, timedelta]:
    """The (frozen time, offset) a clock file holds; ValueError when it is not one."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        frozen = state["frozen"]
        return (datetime.fromisoformat(frozen) if frozen is not None else None,
                timedelta(microseconds=int(state["offset_us"])))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a clock file written by clock.share_file: "
                         f"{exc}") from None


def _use(path: Path | None) -> None:
    global _file, _seen
    _file, _seen = path, None


def _set(frozen: datetime | None, offset: timedelta) -> None:
    """Change the clock (the caller holds _lock), and the shared file with it."""
    global _frozen, _offset, _seen, _last_written
    _frozen, _offset = frozen, offset
    if _file is None:
        return
    state = {"frozen": frozen.isoformat() if frozen is not None else None,
             "offset_us": offset // timedelta(microseconds=1)}
    temporary = _file.with_name(f".{_file.name}.{os.getpid()}")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    # Each version gets a modification time of its own, even two writes within the
    # file system's timestamp granularity: readers compare it to know they must re-read.
    _last_written = max(time.time_ns(), _last_written + 1)
    os.utime(temporary, ns=(_last_written, _last_written))
    os.replace(temporary, _file)  # readers see the old state or the new, never half
    stat = _file.stat()
    _seen = (stat.st_ino, stat.st_mtime_ns)


def _follow() -> None:
    """Re-read the shared file if it changed since it was last read (the caller holds
    _lock): one stat() per call, a read only after a change."""
    global _frozen, _offset, _seen
    assert _file is not None
    try:
        stat = _file.stat()
    except FileNotFoundError:
        if _seen is not None:
            _frozen, _offset, _seen = None, timedelta(0), None
        return
    if (stat.st_ino, stat.st_mtime_ns) == _seen:
        return
    _frozen, _offset = read_file(_file)
    _seen = (stat.st_ino, stat.st_mtime_ns)
