from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from leadflow.emails import preferences, tokens


@require_GET
def preference_centre(request: HttpRequest, token: str) -> HttpResponse:
    lead_id = tokens.read_preferences_token(token)
    if lead_id is None:
        return render(request, "emails/preferences.html", {"valid": False}, status=404)
    return render(request, "emails/preferences.html",
                  {"valid": True, "choices": preferences.choices(lead_id)})
