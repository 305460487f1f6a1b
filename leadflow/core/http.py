"""Request types for views behind login_required (for readers and type checkers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from leadflow.accounts.models import User


class AuthedRequest(HttpRequest):
    """A signed-in user's request: `user` is a Leadflow User, `htmx` is set by
    django-htmx's middleware."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails
