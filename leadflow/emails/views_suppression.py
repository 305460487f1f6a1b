"""The suppression list's page (/emails/suppression/): read and search (admins and
marketing), add addresses one per line, remove one (`emails.suppression_list`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.emails import suppression_list
from leadflow.emails.models import Suppression

PER_PAGE = 100

_readers_only = allowed_only(suppression_list.may_view, gettext_lazy(
    "Only admins and marketing see the suppression list."))
_managers_only = allowed_only(suppression_list.may_manage, gettext_lazy(
    "Only admins and marketing change the suppression list."))


def _page(request: AuthedRequest, status: int = 200, **extra: Any) -> HttpResponse:
    query = request.GET.get("q", "")
    error = ""
    try:
        found = suppression_list.rows(request.user, query)
    except LeadflowError as exc:
        found, error, status = Suppression.objects.none(), exc.message, exc.status
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "emails/suppression.html", {
        "page": page, "rows": [{"obj": r, "shown": suppression_list.shown(r)} for r in page],
        "q": query, "search_error": error, "may_manage": suppression_list.may_manage(
            request.user), "sees_suppression": True, "reasons": Suppression.Reason.choices,
        "added_text": "", **extra}, status=status)


@_readers_only
@require_http_methods(["GET", "HEAD"])
def suppression_page(request: AuthedRequest) -> HttpResponse:
    return _page(request)


@_managers_only
@require_POST
def suppression_add(request: AuthedRequest) -> HttpResponse:
    """Add the addresses typed one per line. The valid ones are added; the invalid lines
    are listed, and stay in the box to be corrected."""
    lines = [line.strip() for line in request.POST.get("addresses", "").splitlines()]
    lines = [line for line in lines if line]
    try:
        results = suppression_list.add(request.user, lines,
                                       note=request.POST.get("note", "").strip())
    except LeadflowError as exc:
        return _page(request, status=exc.status, add_error=exc.message,
                     added_text=request.POST.get("addresses", ""))
    invalid = [r for r in results if r.status == "invalid"]
    added = sum(r.status == "added" for r in results)
    already = sum(r.status == "already" for r in results)
    summary = " ".join([
        ngettext("%(n)s address added.", "%(n)s addresses added.", added) % {"n": added},
        ngettext("%(n)s was already on the list.", "%(n)s were already on the list.",
                 already) % {"n": already} if already else ""]).strip()
    if not invalid:
        messages.success(request, summary)
        return redirect("emails:suppression")
    return _page(request, status=200 if added or already else 422, add_summary=summary,
                 invalid=invalid, added_text="\n".join(r.address for r in invalid))


@_managers_only
@require_POST
def suppression_remove(request: AuthedRequest) -> HttpResponse:
    try:
        suppression_list.remove(request.user, digest=request.POST.get("hash", ""))
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("The address is off the suppression list: it may be "
                                "emailed again."))
    return redirect("emails:suppression")
