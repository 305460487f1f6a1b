"""A person's time zone: which names are valid, and the zone a user's pages use."""

from __future__ import annotations

import zoneinfo
from datetime import tzinfo
from functools import cache
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from leadflow.accounts.models import User


@cache
def zone_names() -> list[str]:
    """The IANA zone names this machine knows, sorted (for the settings page's list)."""
    return sorted(zoneinfo.available_timezones())


def is_valid(name: str) -> bool:
    return name in set(zone_names())


def zone_of(user: User | None) -> tzinfo:
    """The user's zone; the installation's (settings.TIME_ZONE) when unset or unknown."""
    name = getattr(user, "time_zone", "") or ""
    if name and is_valid(name):
        return zoneinfo.ZoneInfo(name)
    return timezone.get_default_timezone()
