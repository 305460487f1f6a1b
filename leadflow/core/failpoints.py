"""Failpoints: named places where a test makes a worker process pause (test-only).

`LEADFLOW_FAILPOINT=email.after_smtp:sleep=30` makes every pass through
`hit("email.after_smtp")` sleep 30 seconds, so that a test can SIGKILL the process at
exactly that place (several failpoints: separate them with commas). Unset in production:
`hit` then costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time
from functools import cache


@cache
def _configured(value: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, action = item.partition(":")
        kind, _, seconds = action.partition("=")
        if kind != "sleep":
            raise ValueError(f"LEADFLOW_FAILPOINT: unknown action {action!r} in {item!r} "
                             "(expected NAME:sleep=SECONDS)")
        points[name] = float(seconds)
    return points


def hit(name: str) -> None:
    """Pause here if the LEADFLOW_FAILPOINT environment variable names this place."""
    seconds = _configured(os.environ.get("LEADFLOW_FAILPOINT", "")).get(name)
    if seconds:
        time.sleep(seconds)
