"""The deliverability page: rates per sending domain, the alert, the latest reports."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from leadflow.accounts.permissions import may_manage_email
from leadflow.core.http import AuthedRequest, allowed_only
from leadflow.emails import deliverability


@allowed_only(may_manage_email, _("Only administrators and marketing see deliverability."))
def deliverability_page(request: AuthedRequest) -> HttpResponse:
    rates = deliverability.domain_rates()
    return render(request, "emails/deliverability.html", {
        "rates": rates, "alerts": [r for r in rates if r.alert],
        "threshold": deliverability.COMPLAINT_THRESHOLD * 100,
        "bounces": deliverability.recent_bounces()})
