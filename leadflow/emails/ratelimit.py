"""Rate limits per recipient domain and per sending domain, shared by every worker.

A limit is COUNT messages per window of SECONDS (LEADFLOW_RECIPIENT_RATE_LIMITS,
LEADFLOW_SENDING_RATE_LIMITS). Each window is a row of SendWindow; a worker takes what it
needs from it in one statement (insert or add, returning the total), and gives back what
it could not use. Messages over the limit wait for the next window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection

from leadflow.core import clock
from leadflow.emails.models import SendWindow

_TABLE = SendWindow._meta.db_table
_TAKE = f"""INSERT INTO {_TABLE} ("key", "window", count) VALUES (%s, %s, %s)
ON CONFLICT ("key", "window") DO UPDATE SET count = {_TABLE}.count + EXCLUDED.count
RETURNING count"""  # noqa: S608 (the table's name is ours)
_GIVE_BACK = f"""UPDATE {_TABLE} SET count = count - %s
WHERE "key" = %s AND "window" = %s"""  # noqa: S608


def limit_for(limits: dict[str, tuple[int, int]], domain: str) -> tuple[int, int] | None:
    return limits.get(domain) or limits.get("*")


def take(key: str, wanted: int, limit: tuple[int, int]) -> tuple[int, datetime]:
    """How many of `wanted` messages may go now under `limit` (count, seconds), and when
    the next window opens."""
    count, seconds = limit
    now = clock.now().timestamp()
    window = int(now // seconds) * seconds  # the window's start, in epoch seconds
    with connection.cursor() as cursor:
        cursor.execute(_TAKE, [key, window, wanted])
        total = cursor.fetchone()[0]
        allowed = max(0, min(wanted, count - (total - wanted)))
        if allowed < wanted:
            cursor.execute(_GIVE_BACK, [wanted - allowed, key, window])
    opens = clock.now() + timedelta(seconds=window + seconds - now)
    return allowed, opens


def forget_old(before_seconds: int = 7200) -> int:
    """Windows long closed are of no use."""
    oldest = int(clock.now().timestamp()) - before_seconds
    return SendWindow.objects.filter(window__lt=oldest).delete()[0]
