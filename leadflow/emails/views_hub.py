"""The email hub (/emails/): the email areas the reader may open, one line each."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from leadflow.core.http import AuthedRequest
from leadflow.emails import hub


@login_required
@require_safe
def email_home(request: AuthedRequest) -> HttpResponse:
    return render(request, "emails/home.html", {"areas": hub.areas_for(request.user)})
