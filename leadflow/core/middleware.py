from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from leadflow.core.errors import LeadflowError
from leadflow.core.http import render_error


class ExpectedErrorMiddleware:
    """An expected error (leadflow.core.errors) escaping an HTML view becomes a page with its
    message and HTTP status, so views only catch the errors they show in place (on a form).
    The API has its own handlers (leadflow.server.api) and never gets here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, LeadflowError):
            return None
        return render_error(request, exc)
