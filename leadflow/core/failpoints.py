"""Failpoints: named places where a test makes a worker process pause or fail (test-only).

`LEADFLOW_FAILPOINT=email.after_smtp:sleep=30` makes every pass through
`hit("email.after_smtp")` sleep 30 seconds, so that a test can SIGKILL the process at
exactly that place; `NAME:raise` raises FailpointError there (a step that breaks);
`NAME:sleep=30@500` acts from the 500th pass on (the middle of a long run). Several
failpoints: separate them with commas. Unset in production: `hit` then costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache


class FailpointError(RuntimeError):
    """Raised where a `NAME:raise` failpoint is set."""


@dataclass(frozen=True)
class _Action:
    kind: str  # "sleep" or "raise"
    seconds: float = 0.0
    from_pass: int = 1


_passes: Counter[str] = Counter()
_lock = threading.Lock()


@cache
def _configured(value: str) -> dict[str, _Action]:
    points: dict[str, _Action] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, action = item.partition(":")
        action, _, from_pass = action.partition("@")
        kind, _, seconds = action.partition("=")
        try:
            if kind not in ("sleep", "raise") or (kind == "sleep") != bool(seconds):
                raise ValueError
            points[name] = _Action(kind, float(seconds or 0), int(from_pass or 1))
        except ValueError:
            raise ValueError(f"LEADFLOW_FAILPOINT: unknown action {action!r} in {item!r} "
                             "(expected NAME:sleep=SECONDS or NAME:raise, optionally "
                             "followed by @PASS)") from None
    return points


def hit(name: str) -> None:
    """Pause or fail here if the LEADFLOW_FAILPOINT environment variable names this place."""
    action = _configured(os.environ.get("LEADFLOW_FAILPOINT", "")).get(name)
    if action is None:
        return
    if action.from_pass > 1:
        with _lock:
            _passes[name] += 1
            if _passes[name] < action.from_pass:
                return
    if action.kind == "raise":
        raise FailpointError(f"failpoint {name}")
    time.sleep(action.seconds)
