"""The retention page: the policy, the leads it makes due, and the admin's confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadflow.core.errors import InvalidInput
from leadflow.core.http import AuthedRequest
from leadflow.leads import retention

SHOWN = 200  # the page shows the oldest; the button erases every lead due at the cutoff


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def retention_page(request: AuthedRequest) -> HttpResponse:
    """GET: the policy and the leads due; POST: erase the leads due at the cutoff shown."""
    if request.method == "POST":
        retention.check_may_manage(request.user)  # before reading anything posted
        try:
            cutoff = parse_datetime(request.POST.get("cutoff", "").strip())
        except ValueError:  # well formed but no such date ("2020-02-30")
            cutoff = None
        if cutoff is None:
            raise InvalidInput(_("cutoff must be a date and time (ISO 8601)."), field="cutoff")
        erased = retention.erase_due(request.user, cutoff=cutoff)
        messages.success(request, _("%(count)s leads were erased.") % {"count": erased})
        return redirect("leads:retention")
    due = retention.list_due(request.user, limit=SHOWN)
    return render(request, "leads/retention.html", {
        "due": due, "policy": due.policy, "more": max(due.count - len(due.leads), 0)})
