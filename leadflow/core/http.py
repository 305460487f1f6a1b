"""Request types for views behind login_required, and the page for an expected error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadflow.core.errors import LeadflowError

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from leadflow.accounts.models import User


class AuthedRequest(HttpRequest):
    """A signed-in user's request: `user` is a Leadflow User, `htmx` is set by
    django-htmx's middleware."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


def render_error(request: HttpRequest, exc: LeadflowError, **context: Any) -> HttpResponse:
    """An expected error as a page: its message, with its HTTP status."""
    context.update(error=exc.message, status=exc.status)
    return render(request, "error.html", context, status=exc.status)
