"""Request types for views behind login_required, the page for an expected error, and the
client's address behind trusted proxies."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadflow.core.errors import Forbidden, LeadflowError

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


def allowed_only(may: Callable[[Any], bool], refusal: Any) -> Callable[[Any], Any]:
    """A view decorator: a signed-in user that `may(user)` allows, else the error page
    (403) with `refusal` (a lazy translation: read in the reader's language)."""
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not may(request.user):
                return render_error(request, Forbidden(str(refusal)))
            return view(request, *args, **kwargs)
        return login_required(wrapped)
    return decorate


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in network for network in settings.LEADFLOW_TRUSTED_PROXIES)


def client_ip(request: HttpRequest) -> str:
    """The visitor's address: the socket peer, unless that peer is a trusted proxy
    (LEADFLOW_TRUSTED_PROXIES), then the rightmost X-Forwarded-For entry that is not a
    trusted proxy. Entries left of it were written by the client and prove nothing; an
    unparseable entry stops the walk at the hop that wrote it."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    current = _address(peer)
    if current is None or not _trusted(current):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",") if forwarded else []):
        hop = _address(entry)
        if hop is None:
            break
        current = hop
        if not _trusted(hop):
            break
    return str(current)
