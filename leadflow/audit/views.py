from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from leadflow.audit import services
from leadflow.core.http import AuthedRequest


@login_required
@require_safe
def audit_log(request: AuthedRequest) -> HttpResponse:
    """The audit log, newest first (administrators)."""
    kind = request.GET.get("kind", "")
    entries = services.entries_for(request.user, kind=kind).select_related("actor")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "kind": kind})
