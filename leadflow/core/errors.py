"""Expected errors: each carries its HTTP status and a message a person can act on.

Services raise these; the API turns them into JSON (`{"message": ..., "field": ...}`) and
the HTML views into a message on the page. Anything else reaching the top is a bug (500).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _


class LeadflowError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(LeadflowError):
    status = 422


class Unauthorized(LeadflowError):
    status = 401


class NotFound(LeadflowError):
    status = 404


class Forbidden(LeadflowError):
    status = 403


class Conflict(LeadflowError):
    status = 409


def contains_nul(value: object) -> bool:
    """True when a string anywhere in `value` (dict keys included) holds a NUL character.

    PostgreSQL stores none in text or jsonb columns (the insert fails with a 500), so
    services refuse such input up front as InvalidInput.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def check_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse, as InvalidInput naming the field, a write whose keys are not all `allowed`
    or whose text holds a NUL character (the editors' common first check)."""
    if contains_nul(dict(data)):
        raise InvalidInput(_("Text may not contain NUL characters."), field="body")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(_("Unknown field: %(field)s.") % {"field": unknown[0]},
                           field=unknown[0])
