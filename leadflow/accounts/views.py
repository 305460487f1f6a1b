"""The signed-in person's own settings: their time zone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadflow.accounts import services
from leadflow.accounts.timezones import zone_names
from leadflow.core.errors import InvalidInput
from leadflow.core.http import AuthedRequest


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_settings(request: AuthedRequest) -> HttpResponse:
    error, status = "", 200
    if request.method == "POST":
        try:
            services.set_time_zone(request.user, request.POST.get("time_zone", ""),
                                   actor=request.user)
        except InvalidInput as exc:
            error, status = exc.message, exc.status
        else:
            messages.success(request, _("Your settings are saved."))
            return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {
        "zones": zone_names(), "error": error,
        "current": request.POST.get("time_zone", request.user.time_zone)
        if error else request.user.time_zone,
    }, status=status)
