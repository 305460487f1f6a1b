"""Sender identities (`/api/v1/emails/senders`) and the DNS records each one's domain
needs (`.../{id}/dns`; `POST .../{id}/dns/check` asks a worker to look again). Read by
admins and marketing, written by them (the `templates` row of the configuration table)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.core.errors import Forbidden
from leadflow.core.params import row_or_404
from leadflow.core.responses import answers
from leadflow.emails import dns_check, senders
from leadflow.emails.models import SenderIdentity

router = Router(tags=["emails"])


class SenderOut(Schema):
    id: int
    name: str = Field(description="For people choosing a sender; unique")
    from_name: str
    from_email: str
    reply_to: str = Field(description="Where replies go; empty: the From address")
    is_default: bool = Field(description="Used by templates and campaigns that name none")
    domain: str = Field(description="The From address's domain (DKIM and DNS go by it)")
    from_header: str = Field(description="The From header it gives")

    @staticmethod
    def resolve_from_header(identity: SenderIdentity) -> str:
        return senders.from_header(identity)


class SenderPatch(Schema):
    name: str | None = None
    from_name: str | None = None
    from_email: str | None = None
    reply_to: str | None = None
    is_default: bool | None = None


class SenderIn(SenderPatch):
    name: str  # type: ignore[assignment]
    from_name: str  # type: ignore[assignment]
    from_email: str  # type: ignore[assignment]


class DnsRecordOut(Schema):
    kind: str = Field(description="spf | dkim | dmarc")
    type: str = Field("TXT", description="The record type to publish")
    name: str = Field(description="Where the record lives")
    expected: str = Field(description="The value to publish (empty: DKIM without a key)")
    status: str = Field(description="The last check's verdict: ok | missing | mismatch | "
                                    "unknown (DNS did not answer) | no_key; empty: not "
                                    "checked (or checked against another value)")
    found: list[str] = Field(description="The matching records DNS had")
    detail: str
    note: str


class DnsReportOut(Schema):
    domain: str
    selector: str = Field(description="The DKIM selector (LEADFLOW_DKIM_SELECTOR)")
    records: list[DnsRecordOut]
    checked_at: datetime | None = Field(description="When DNS was last asked")
    pending: bool = Field(description="A check is waiting for a worker")
    error: str


def _check_may_view(request) -> None:
    if not senders.may_view(request.user):
        raise Forbidden(_("Only admins and marketing see the sender identities."))


def _sender(sender_id: int) -> SenderIdentity:
    return row_or_404(SenderIdentity, sender_id, _("No such sender identity."))


@router.get("", response=answers(list[SenderOut]), summary="List the sender identities")
def list_senders(request):
    _check_may_view(request)
    return senders.all_senders()


@router.get("/{sender_id}", response=answers(SenderOut, 404, 422), summary="A sender identity")
def get_sender(request, sender_id: int):
    _check_may_view(request)
    return _sender(sender_id)


@router.post("", response=answers({201: SenderOut}, 409, 413, 422),
             summary="Add a sender identity (made the default, it replaces the previous one)")
def create_sender(request, payload: SenderIn):
    return Status(201, senders.save_sender(request.user, None,
                                           payload.dict(exclude_unset=True)))


@router.patch("/{sender_id}", response=answers(SenderOut, 404, 409, 413, 422),
              summary="Change a sender identity (only the fields given)")
def update_sender(request, sender_id: int, payload: SenderPatch):
    senders.check_may_edit(request.user)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return senders.save_sender(request.user, _sender(sender_id), data)


@router.delete("/{sender_id}", response=answers({204: None}, 404, 422),
               summary="Delete a sender identity (its templates and campaigns fall back to "
                       "the default one)")
def delete_sender(request, sender_id: int):
    senders.check_may_edit(request.user)
    senders.delete_sender(request.user, _sender(sender_id))
    return Status(204, None)


@router.get("/{sender_id}/dns", response=answers(DnsReportOut, 404, 422),
            summary="The SPF, DKIM and DMARC records the sender's domain needs, with the "
                    "last check's verdicts")
def sender_dns(request, sender_id: int):
    _check_may_view(request)
    return dns_check.report(_sender(sender_id).domain)


@router.post("/{sender_id}/dns/check", response=answers({202: DnsReportOut}, 404, 422),
             summary="Ask a worker to look the records up in DNS again")
def check_sender_dns(request, sender_id: int):
    senders.check_may_edit(request.user)
    identity = _sender(sender_id)
    dns_check.request_check(request.user, identity.domain)
    return Status(202, dns_check.report(identity.domain))
