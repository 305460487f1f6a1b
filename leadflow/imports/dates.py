"""Creation dates in import files: ISO 8601 (and xlsx dates), or day first as in French
(docs/imports.md)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.utils import timezone

from leadflow.core import clock

_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
                   r"(?:[ T,]+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?")


def parse_date(text: str, *, month_first: bool = False) -> datetime:
    """A creation date: ISO 8601 (what xlsx dates become), or DD/MM/YYYY (also with . or -,
    a 2-digit year, a time HH:MM[:SS]). 03/04/2024 is 3 April unless `month_first`; a
    number over 12 settles it either way (04/25/2024 is 25 April). A date without a time
    zone is in the installation's. Raises ValueError (a date in the future too)."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _day_month_year(text, month_first)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > clock.now() + timedelta(days=1):
        raise ValueError(f"creation date {text[:40]!r} is in the future")
    return moment


def _day_month_year(text: str, month_first: bool) -> datetime:
    found = _DATE.fullmatch(text)
    problem = ValueError(f"{text[:40]!r} is not a date (write YYYY-MM-DD or DD/MM/YYYY)")
    if not found:
        raise problem
    a, b, year = (int(found[i]) for i in (1, 2, 3))
    if b > 12 >= a or (month_first and a <= 12):
        day, month = b, a
    else:
        day, month = a, b
    if len(found[3]) == 2:
        year += 2000 if year < 70 else 1900
    try:
        return datetime(year, month, day, int(found[4] or 0), int(found[5] or 0),
                        int(found[6] or 0))
    except ValueError:
        raise problem from None
