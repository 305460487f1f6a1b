"""Website tracking over HTTP: the snippet, the beacon endpoint, the pixel, the settings
page. The endpoints answer browsers on other sites: no session, no CSRF token, CORS."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from leadflow.accounts.permissions import CHANGE, may, may_manage_secrets
from leadflow.core.errors import InvalidInput, LeadflowError
from leadflow.core.http import AuthedRequest, client_ip, render_error
from leadflow.tracking import collect as collector
from leadflow.tracking import sites

# The smallest transparent GIF.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c0000000001"
                      "0001000002024401003b")
SNIPPET = Path(__file__).parent / "static" / "tracking" / "lf.js"


@cache
def _script_source() -> str:
    return SNIPPET.read_text(encoding="utf-8")


def _origin(request: HttpRequest) -> str:
    return request.headers.get("Origin") or request.headers.get("Referer") or ""


def _dnt(request: HttpRequest) -> bool:
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


@require_safe
def script(request: HttpRequest) -> HttpResponse:
    """lf.js with this server's privacy settings in front. Cached for 5 minutes only, so a
    new version (or a changed setting) reaches every site quickly."""
    config = {"respectDnt": settings.LEADFLOW_TRACKING_RESPECT_DNT,
              "consentMode": settings.LEADFLOW_TRACKING_CONSENT_MODE}
    body = f"window.__leadflowConfig={json.dumps(config)};\n{_script_source()}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"  # sendBeacon sends cookies
        response["Vary"] = "Origin"
    return response


@csrf_exempt  # posted by scripts on other sites; it changes no user's state here
@require_http_methods(["POST", "OPTIONS"])
def collect(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if request.method == "OPTIONS":  # fetch() with a JSON content type preflights
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        return _cors(response, collector.allowed_origin(origin))
    beacon = collector.Beacon(
        body=request.body, origin=_origin(request), origin_header=origin,
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request), do_not_track=_dnt(request))
    # Only an origin of the beacon's site is granted, and only once the site is known: a
    # refused or unknown origin (or a batch refused before its site is read) gets none.
    grant: list[str] = []
    try:
        result = collector.collect(beacon, grant)
    except LeadflowError as exc:
        body = {"message": exc.message, "field": exc.field}
        return _cors(JsonResponse(body, status=exc.status), "".join(grant))
    return _cors(JsonResponse(result.as_dict()), "".join(grant))


@require_safe
def pixel(request: HttpRequest) -> HttpResponse:
    """The no-JavaScript fallback: <img src=".../t/p.gif?s=KEY&u=URL&t=TITLE">."""
    get = request.GET
    collector.pixel_hit(
        site_key=get.get("s", "")[:40], url=get.get("u", "")[:1000],
        title=get.get("t", "")[:300], referrer=get.get("r", "")[:1000],
        vid=get.get("v", "")[:64], origin=request.headers.get("Referer", ""),
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request), do_not_track=_dnt(request))
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthedRequest) -> HttpResponse:
    """Sites, their install snippet, and the last 30 days (admin and marketing)."""
    if not may(request.user, CHANGE, "tracking"):
        return render(request, "tracking/forbidden.html", status=403)
    error, values = "", {"name": "", "domains": ""}
    if request.method == "POST":
        values = {"name": request.POST.get("name", ""),
                  "domains": request.POST.get("domains", "")}
        try:
            sites.create_site(values["name"], values["domains"])
        except InvalidInput as exc:
            error = exc.message
        else:
            return redirect("tracking:settings")
    base = request.build_absolute_uri("/").rstrip("/")
    stats = sites.stats(days=30)
    return render(request, "tracking/settings.html", {
        "sites": sites.sites_with_snippets(base),
        # Events may arrive without a site here (demo data, the API, a snippet of another
        # installation): "no site" must not read as "no traffic" beside their counts.
        "has_traffic": bool(stats.visitors or stats.page_views or stats.downloads
                            or stats.outbound_clicks),
        "stats": stats, "error": error, "values": values,
        "can_manage_secrets": may_manage_secrets(request.user),
        "title": _("Website tracking"),
    }, status=422 if error else 200)


@login_required
@require_http_methods(["POST"])
def identity_secret(request: AuthedRequest, site_id: int) -> HttpResponse:
    """Create, rotate or remove a site's identity secret (admins only)."""
    try:
        sites.set_identity_secret(request.user, site_id,
                                  enabled=request.POST.get("action") != "remove")
    except LeadflowError as exc:
        return render_error(request, exc)
    return redirect("tracking:settings")
