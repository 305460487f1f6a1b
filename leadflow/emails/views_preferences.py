"""The preference centre's public page (/p/<token>), in the lead's language: GET shows the
choices and changes nothing; POST (the page's own form, CSRF-checked) saves them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from leadflow.core.errors import NotFound
from leadflow.core.http import client_ip
from leadflow.emails import preferences, topics


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "emails/preferences.html", {"valid": False}, status=404)


@require_http_methods(["GET", "HEAD", "POST"])
def preference_centre(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            preferences.save(token, request.POST.getlist("topic"),
                             all_off=request.POST.get("all_off") == "on",
                             ip=client_ip(request) or None)
        except NotFound:
            return _invalid(request)
        # Back to the page: a reload does not post the form again.
        return HttpResponseRedirect(request.path + "?saved=1")
    try:
        page = preferences.page(token)
    except NotFound:
        return _invalid(request)
    language = page.language or translation.get_language()
    with translation.override(language):
        return render(request, "emails/preferences.html", {
            "valid": True, "all_off": page.all_off, "saved": "saved" in request.GET,
            "language": language,
            "choices": [{"topic": t, "on": on, "name": topics.name(t, language),
                         "description": topics.description(t, language)}
                        for t, on in page.choices]})
