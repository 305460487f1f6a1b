# No `from __future__ import annotations`: ninja reads the annotations at import time.
"""Bounces through the API (/api/v1/emails/): POST a raw DSN or ARF report; GET the
deliverability rates per sending domain. Admins and marketing (accounts.permissions.
may_manage_email), with a full-scope token."""

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from leadflow.accounts.permissions import Actor, may_manage_email
from leadflow.core.errors import Forbidden
from leadflow.core.responses import answers
from leadflow.emails import bounces, deliverability
from leadflow.emails.models import Bounce

router = Router(tags=["emails"])

# The report as received; text/plain is the same bytes, for clients (and API fuzzers)
# that cannot name message/rfc822.
_RAW_BODY = {"requestBody": {"required": True, "content": {
    "message/rfc822": {"schema": {"type": "string"}},
    "text/plain": {"schema": {"type": "string"}}}}}


class OutcomeOut(Schema):
    address: str
    kind: str = Field(description="hard | soft | complaint")
    status: str = Field(description='The enhanced status code, e.g. "5.1.1"')
    message_id: int | None = Field(description="The email it is about (null: none matched)")
    effect: str = Field(description="suppressed | retry | recorded | unmatched | duplicate")


class BounceReportOut(Schema):
    report_type: str = Field(description="delivery-status | feedback-report")
    matched: bool = Field(description="Whether the report named one of our emails")
    results: list[OutcomeOut]


class DomainRateOut(Schema):
    domain: str
    sent: int
    hard_bounces: int
    complaints: int
    bounce_rate: float
    complaint_rate: float
    alert: bool = Field(description="The complaint rate is above 0.3%")


def _allowed(request) -> None:
    if not may_manage_email(request.user):
        raise Forbidden(_("Only administrators and marketing may manage email delivery."))


@router.post("/bounces", response=answers(BounceReportOut, 413, 422), openapi_extra=_RAW_BODY,
             summary="Record a bounce (DSN) or complaint (ARF) report")
def post_report(request):
    """The body is the whole report as received (`Content-Type: message/rfc822`, or
    `text/plain`). It is
    matched to its email by the VERP address it was sent to, else by the Message-ID of
    the returned headers; see docs/email.md."""
    _allowed(request)
    report, outcomes = bounces.record_report(request.body, via=Bounce.Via.HTTP,
                                             actor=Actor.of(request.user))
    return {"report_type": report.type, "results": outcomes,
            "matched": any(o.message_id for o in outcomes)}


@router.get("/deliverability", response=answers(list[DomainRateOut]),
            summary="Bounce and complaint rates per sending domain (30 days)")
def get_rates(request):
    _allowed(request)
    return deliverability.domain_rates()
