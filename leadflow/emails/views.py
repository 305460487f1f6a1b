from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leadflow.core.http import client_ip
from leadflow.emails import services
from leadflow.emails.engagement import Hit

# The smallest transparent GIF.
_PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c0000000001"
                       "0001000002024401003b")


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request) or None


@csrf_exempt  # RFC 8058: mail providers POST without cookies or a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a one-button page (link scanners must not unsubscribe anyone);
    POST unsubscribes at once, whether from that button or a one-click provider."""
    if request.method == "POST":
        lead = services.unsubscribe(token, ip=_ip(request))
        status = 200 if lead else 404
        return render(request, "emails/unsubscribed.html", {
            "ok": lead is not None,
            "preferences": _preferences_path(lead.pk) if lead else ""}, status=status)
    from leadflow.emails.tokens import read_unsubscribe_token

    parsed = read_unsubscribe_token(token)
    return render(request, "emails/unsubscribe.html", {
        "valid": parsed is not None,
        "preferences": _preferences_path(parsed[0]) if parsed else ""},
        status=200 if parsed else 404)


def _preferences_path(lead_id: int) -> str:
    from django.urls import reverse

    from leadflow.emails.tokens import preferences_token

    return reverse("emails:preferences", args=[preferences_token(lead_id)])


def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    services.record_open(token, Hit.of(request))
    response = HttpResponse(_PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


def click(request: HttpRequest, token: str) -> HttpResponse:
    """A tracked link: record the click, go on to the destination stored when the email
    was sent (never one named by the request). Unknown or tampered token: 404. A HEAD
    (a link checker's) is a machine's click: it gets the redirect, never the lf_id."""
    from django.http import Http404, HttpResponseRedirect

    from leadflow.emails.links import record_click

    destination = record_click(token, Hit.of(request))
    if destination is None:
        raise Http404("Unknown link")
    response = HttpResponseRedirect(destination)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
