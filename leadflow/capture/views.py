"""Public form endpoints: the hosted page (also the iframe), the embed snippet's script,
definition and submit (CORS, CSRF-exempt: see leadflow.capture.abuse), the lead magnet
download and the double opt-in confirmation."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from leadflow.capture import assessment, fields, services, tokens
from leadflow.capture.abuse import Rejected
from leadflow.capture.models import Form, FormField
from leadflow.core.errors import InvalidInput, NotFound
from leadflow.core.http import client_ip
from leadflow.core.params import text

RESERVED = {"consent", "page_url", "lf_vid", "lf_token", "lf_key", "csrfmiddlewaretoken",
            "lang"}
EMBED_JS = Path(__file__).parent / "static" / "capture" / "embed.js"


def visitor_language(request: HttpRequest) -> str:
    """?lang= when it names a language of the site, else the one LocaleMiddleware chose
    (the language cookie, then Accept-Language)."""
    wanted = request.GET.get("lang", "").strip().lower()
    codes = [code for code, _ in settings.LANGUAGES]
    if wanted in codes:
        return wanted
    return translation.get_language() or settings.LANGUAGE_CODE


def field_context(specs: list[FormField], lang: str, values: dict[str, Any]) -> list[dict]:
    out = []
    for spec in specs:
        value = values.get(spec.key, "")
        out.append({"key": spec.key, "type": spec.type, "required": spec.required,
                    "label": fields.label(spec, lang), "choices": fields.choices(spec),
                    "options": fields.options(spec, lang), "weighted": bool(spec.answers),
                    "value": value if not isinstance(value, list) else "",
                    "selected": value if isinstance(value, list) else [value]})
    return out


def _read_values(request: HttpRequest) -> dict[str, Any]:
    """The posted values: JSON object or form-encoded (repeated keys become lists)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            raise InvalidInput(_("The request body is not valid JSON."), field="body") from None
        if not isinstance(data, dict):
            raise InvalidInput(_("The request body must be a JSON object."), field="body")
        return data
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists()}


def _submission(request: HttpRequest, values: dict[str, Any], lang: str
                ) -> services.Submission:
    page_url = text(values.get("page_url"), "page_url", drop_nul=True)[:500]
    cookie = request.COOKIES.get(tokens.LEAD_COOKIE, "")
    return services.Submission(
        values={k: v for k, v in values.items() if k not in RESERVED},
        consent=(values.get("consent") is True
                 or str(values.get("consent", "")).lower() in fields.TRUE),
        ip=client_ip(request) or None,
        # Proof of consent, stored as given (minus NULs, which PostgreSQL refuses).
        page_url=page_url or settings.BASE_URL + request.path,
        token=text(values.get("lf_token"), "lf_token"),
        visitor_id=(text(values.get("lf_vid"), "lf_vid") or request.COOKIES.get("lf_vid")
                    or "")[:64],
        lead_id=tokens.read_lead_cookie(cookie) if cookie else None,
        body_bytes=int(request.META.get("CONTENT_LENGTH") or 0), lang=lang,
        key=text(values.get("lf_key"), "lf_key")[:200])


def _remember(response: HttpResponse, form: Form, outcome: services.Outcome) -> None:
    if form.progressive_profiling and outcome.proven:
        response.set_cookie(tokens.LEAD_COOKIE, tokens.lead_cookie(outcome.lead.pk),
                            max_age=tokens.LEAD_COOKIE_AGE, httponly=True, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)


def _known(request: HttpRequest, form: Form, visitor_id: str = ""):
    cookie = request.COOKIES.get(tokens.LEAD_COOKIE, "")
    return services.recognised_lead(
        form, visitor_id=visitor_id or request.COOKIES.get("lf_vid", ""),
        lead_id=tokens.read_lead_cookie(cookie) if cookie else None)


@csrf_exempt  # iframes on other sites cannot send our CSRF cookie: see capture.abuse
@xframe_options_exempt  # forms are meant to be embedded in the customer's site
# ...so any site may frame them, and a submission may redirect to the form's thank-you page
# on the customer's site (form-action would block that redirect).
@csp_replace({"frame-ancestors": ["*"], "form-action": None})  # type: ignore[arg-type]
# (django-csp types its decorators for views taking the request only)
@require_http_methods(["GET", "HEAD", "POST"])
def hosted_form(request: HttpRequest, slug: str) -> HttpResponse:
    form = get_object_or_404(Form, slug=slug, active=True)
    lang = visitor_language(request)
    embed = request.GET.get("embed") == "1"
    with translation.override(lang):
        context: dict[str, Any] = {
            "form": form, "texts": texts_for(form, lang), "embed": embed, "lang": lang,
            "honeypot": services.HONEYPOT,
            "utm": {k: request.GET.get(k, "")[:150] for k in services.UTM},
            "token": tokens.fill_token(form.pk)}
        values: dict[str, Any] = {}
        if request.method == "POST":
            values = _read_values(request)
            submission = _submission(request, values, lang)
            try:
                outcome = services.submit_form(form, submission)
            except (InvalidInput, Rejected) as exc:
                context.update(error=exc.message, field=exc.field)
                context["fields"] = field_context(
                    fields.shown_fields(form, _known(request, form)), lang, values)
                context["values"] = values
                return render(request, "capture/form.html", context, status=exc.status)
            if outcome.result is not None:  # an assessment: its result page, always
                context.update(outcome=outcome, result=outcome.result,
                               score_label=score_label(outcome.result))
                response: HttpResponse = render(request, "capture/result.html", context)
            elif outcome.redirect_url:
                response = HttpResponseRedirect(outcome.redirect_url)
            else:
                context.update(outcome=outcome)
                response = render(request, "capture/thanks.html", context)
            _remember(response, form, outcome)
            return response
        context["fields"] = field_context(fields.shown_fields(form, _known(request, form)),
                                           lang, values)
        context["values"] = values
        response = render(request, "capture/form.html", context)
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


def texts_for(form: Form, lang: str) -> dict[str, str]:
    """The form's visitor-facing texts in `lang` (call inside translation.override)."""
    texts = form.texts(lang)
    texts["submit_label"] = texts["submit_label"] or str(translation.gettext("Send"))
    texts["thank_you"] = (texts["thank_you"]
                          or str(translation.gettext("We received your request.")))
    return texts


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


@require_http_methods(["GET", "HEAD", "OPTIONS"])
def definition(request: HttpRequest, slug: str) -> HttpResponse:
    """The form as JSON for embed.js, in the visitor's language, with a fresh fill token."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    form = Form.objects.filter(slug=slug, active=True).first()
    if form is None:
        return _cors(JsonResponse({"ok": False, "message": "No such form."}, status=404))
    lang = visitor_language(request)
    visitor = request.GET.get("lf_vid", "")[:64]
    with translation.override(lang):
        specs = field_context(fields.shown_fields(form, _known(request, form, visitor)),
                               lang, {})
        texts = texts_for(form, lang)
        body = {
            "slug": form.slug, "title": texts["title"], "intro": texts["intro"], "lang": lang,
            "fields": [_definition_field(f) for f in specs],
            "consent": ({"text": texts["consent_text"], "version": form.consent_version}
                        if texts["consent_text"] else None),
            "honeypot": services.HONEYPOT, "token": tokens.fill_token(form.pk),
            "submit_url": services.public_url(form, "submit"),
            "submit_label": texts["submit_label"],
        }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"  # the token is fresh each time
    patch_vary_headers(response, ["Accept-Language"])
    return _cors(response)


def _definition_field(field: dict[str, Any]) -> dict[str, Any]:
    out = {k: field[k] for k in ("key", "type", "label", "required", "choices")}
    # Options whose labels differ from their values (an assessment's answers, BANT yes/no
    # in the visitor's language): embed.js shows the labels and posts the values.
    if field["weighted"] or any(value != label for value, label in field["options"]):
        out.update(options=field["options"], weighted=field["weighted"])
    return out


@csrf_exempt  # cross-site posts cannot carry Django's CSRF cookie: see capture.abuse
@require_http_methods(["POST", "OPTIONS"])
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    """The embed snippet's submit: JSON or form-encoded in, JSON out (CORS for any site)."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    form = Form.objects.filter(slug=slug, active=True).first()
    if form is None:
        return _cors(JsonResponse({"ok": False, "message": "No such form."}, status=404))
    lang = visitor_language(request)
    with translation.override(lang):
        try:
            outcome = services.submit_form(form, _submission(request, _read_values(request),
                                                             lang))
        except Rejected as exc:
            return _cors(JsonResponse({"ok": False, "message": exc.message, "field": exc.field,
                                       "reason": exc.reason}, status=exc.status))
        except InvalidInput as exc:
            return _cors(JsonResponse({"ok": False, "message": exc.message, "field": exc.field,
                                       "reason": "invalid"}, status=exc.status))
        message = texts_for(form, lang)["thank_you"]
        confirm = str(translation.gettext("Please check your inbox to confirm your address."))
        download_label = str(translation.gettext("Download your file"))
        result = result_json(outcome.result) if outcome.result is not None else None
    response = JsonResponse({"ok": True, "message": message,
                             "redirect": "" if result else outcome.redirect_url,
                             "download_url": outcome.download_url,
                             "download_label": download_label,
                             "confirm_email": confirm if outcome.awaiting_confirmation else "",
                             "result": result})
    _remember(response, form, outcome)
    return _cors(response)


def result_json(result: assessment.Result) -> dict[str, Any]:
    """An assessment's result for the embed (call inside translation.override)."""
    band = result.band
    return {"score": result.score, "max": result.max,
            "score_label": score_label(result),
            "heading": str(translation.gettext("Your result")),
            "band": band.key if band else "", "title": band.title if band else "",
            "recommendations": band.recommendations if band else [],
            "recommendations_label": str(translation.gettext("Our recommendations"))}


def score_label(result: assessment.Result) -> str:
    return str(translation.gettext("Your maturity score: %(score)s out of %(max)s")
               % {"score": result.score, "max": result.max})


@cache
def _embed_source() -> bytes:
    return EMBED_JS.read_bytes()


@require_safe
def embed_js(request: HttpRequest, slug: str) -> HttpResponse:
    response = HttpResponse(_embed_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return _cors(response)


@require_safe
def download(request: HttpRequest, slug: str, token: str) -> HttpResponseBase:
    """The lead magnet, through a signed link that expires (never a guessable URL)."""
    try:
        form = services.magnet_for_download(slug, token)
    except NotFound as exc:
        return render(request, "capture/message.html", {"error": exc.message}, status=404)
    response = FileResponse(form.lead_magnet.open("rb"), as_attachment=True,
                            filename=Path(form.lead_magnet.name or "file").name)
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt  # the signed token is the authority; nothing else to protect
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links, they do not press buttons); POST
    confirms the address."""
    if request.method != "POST":
        valid = tokens.read_optin_token(token) is not None
        return render(request, "capture/confirm.html", {"valid": valid},
                      status=200 if valid else 404)
    try:
        services.confirm_optin(token, ip=client_ip(request) or None)
    except NotFound as exc:
        return render(request, "capture/confirm.html", {"valid": False, "error": exc.message},
                      status=404)
    return render(request, "capture/confirm.html", {"valid": True, "confirmed": True})
