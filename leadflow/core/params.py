"""Values from outside (query strings, JSON bodies, form posts), parsed at the edge.

A wrong type or an impossible number becomes an InvalidInput (422) naming the field here,
before it reaches a query or a text column: otherwise it is a 500 (an int() that fails, an
integer past 64 bits that SQLite or PostgreSQL refuses) or a Python repr stored as text
("{'a': 1}"). docs/api-errors.md lists the limits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from leadflow.core.errors import InvalidInput

MAX_ID = 2**63 - 1  # the largest value of a BigAutoField
MAX_LIMIT = 1000  # the most rows one page of a list answers
# Far past any real list, and small enough that offset + limit stays a 64-bit integer.
MAX_OFFSET = 10**12


def valid_id(value: int) -> bool:
    """Whether `value` can be a row id (the databases refuse integers past 64 bits)."""
    return 0 < value <= MAX_ID


def row_or_404(model: Any, pk: int, missing: str) -> Any:
    """The `model` row with id `pk`, else NotFound with `missing` (an id no row can have,
    past 64 bits, included: the database would refuse it)."""
    from leadflow.core.errors import NotFound

    row = model._default_manager.filter(pk=pk).first() if valid_id(pk) else None
    if row is None:
        raise NotFound(missing)
    return row


def parse_id(raw: str, field: str) -> int:
    """A row id written in a query string. ASCII digits only: "³".isdigit() is True in
    Python, and int() refuses it."""
    value = raw.strip()
    # The length first: int() refuses more than 4,300 digits (a ValueError).
    if not (value.isascii() and value.isdecimal() and len(value) <= len(str(MAX_ID))
            and valid_id(int(value))):
        raise InvalidInput(_("%(field)s must be a positive whole number (an id), not %(value)r.")
                           % {"field": field, "value": value[:30]}, field=field)
    return int(value)


def text(value: Any, field: str, *, drop_nul: bool = False) -> str:
    """A value for a text field: a string, or a number or true/false written as text.
    An object or a list is refused, never stored as its Python repr; so is a NUL
    character, which PostgreSQL cannot store (or it is dropped, with `drop_nul`)."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        kind = "an object" if isinstance(value, dict) else "a list"
        raise InvalidInput(_("%(field)s must be a text, not %(kind)s.")
                           % {"field": field, "kind": kind}, field=field)
    result = value if isinstance(value, str) else str(value)
    if drop_nul:
        return result.replace("\x00", "")
    if "\x00" in result:
        raise InvalidInput(_("%(field)s contains a NUL character.") % {"field": field}, field=field)
    return result


def utc(value: datetime, field: str) -> datetime:
    """An aware datetime moved to UTC (a naive one is left to Django's TIME_ZONE).
    PostgreSQL refuses offsets past 15:59 ("-16:27"), and near year 1 or 9999 a move
    across midnight leaves the calendar."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(_("%(field)s is out of range.")
                           % {"field": field}, field=field) from None


class Pagination(LimitOffsetPagination):
    """Ninja's limit/offset, bounded: past the bounds is a 422, not a database error."""

    class Input(Schema):
        limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
