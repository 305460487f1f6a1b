"""The notifications page: a person's notifications, newest first; marking them read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from leadflow.core.http import AuthedRequest
from leadflow.notifications import services


@login_required
def inbox(request: AuthedRequest) -> HttpResponse:
    notes = list(services.for_user(request.user)[:100])
    for note in notes:
        note.lines = services.reason_lines(note)  # type: ignore[attr-defined]
    return render(request, "notifications/list.html", {"notifications": notes})


@login_required
@require_POST
def read(request: AuthedRequest, notification_id: int) -> HttpResponse:
    services.mark_read(request.user, notification_id)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request: AuthedRequest) -> HttpResponse:
    services.mark_all_read(request.user)
    return redirect("notifications:inbox")
