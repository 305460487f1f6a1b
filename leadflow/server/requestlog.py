"""One log line per request: method, path, status and duration, never personal data.

The query string is left out (it carries emails, UTM values and search terms), and so is
the client address (personal data under the GDPR). Link tokens in the path (unsubscribe,
email opens and clicks, opt-in confirmations, downloads) are replaced by `<token>`: each
names a lead, and a log reader could use one. Lines go to the `leadflow.requests` logger
at INFO, so LEADFLOW_LOG_LEVEL=WARNING turns them off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

log = logging.getLogger("leadflow.requests")

Handler = Callable[[HttpRequest], HttpResponseBase]


def loggable_path(request: HttpRequest) -> str:
    """The request's path without its query string, link tokens masked."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    if isinstance(token, str) and token:
        path = path.replace(token, "<token>")
    return path


class RequestLogMiddleware:
    """First in MIDDLEWARE, so the duration covers every other middleware too."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not log.isEnabledFor(logging.INFO):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %s %.0f ms", request.method, loggable_path(request),
                 response.status_code, elapsed_ms)
        return response
