"""Bounces and complaints: one service for the three ways in (the SMTP listener
`leadflow bounces`, POST /api/v1/emails/bounces, a provider's webhook through anymail).

A report names its message by the VERP address it was sent to (emails.verp: signed, so
it cannot be forged), else by the Message-ID of the returned headers (reports posted by
a person with the right to), else, for a provider's event, by the metadata we sent or
the last message sent to the address. Once matched, the message's own address is the one
acted on, whatever address the report names.

- hard bounce: the address is suppressed, the message marked `bounced_at`, the lead's
  contact data flagged (`email_bounced`), `email_bounced` on its timeline;
- soft bounce (a final 4.x.x): the message is queued again, due after the outbox's
  backoff (same Message-ID), while it has attempts left; after LEADFLOW_SOFT_BOUNCE_LIMIT
  soft bounces of the address with no delivery in between (a provider's `delivered`, an
  open or a click), the address is suppressed;
- a "delayed" report (the sending server still tries): recorded only;
- complaint: the address is suppressed, marketing consent withdrawn (do-not-email),
  `email_complained` on the timeline.

A report that matches no message is recorded without effect (and logged). Set-based:
a constant number of queries per batch, except one consent write per complaint (rare).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, may_manage_email
from leadflow.core import clock, workqueue
from leadflow.core.errors import Forbidden
from leadflow.emails import dsn, verp
from leadflow.emails.models import Bounce, EmailMessage, Suppression
from leadflow.emails.suppression import address_hash, normalise
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.leads.privacy import Person

log = logging.getLogger(__name__)

HARD, SOFT, COMPLAINT = Bounce.Kind.HARD, Bounce.Kind.SOFT, Bounce.Kind.COMPLAINT


@dataclass(frozen=True)
class Incoming:
    """One bounce or complaint to record: `message_id` is our EmailMessage's id, if known."""

    address: str
    kind: str
    key: str
    status: str = ""
    diagnostic: str = ""
    delayed: bool = False
    message_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    address: str
    kind: str
    status: str
    message_id: int | None
    # recorded, suppressed, retry, duplicate, unmatched
    effect: str


def record_report(raw: bytes, *, via: str, actor: Actor, envelope_to: list[str] | None = None
                  ) -> tuple[dsn.Report, list[Outcome]]:
    """Record a DSN or ARF report (`raw`, a whole message). `envelope_to`: the recipients
    of the SMTP envelope it came with (our VERP addresses). Raises dsn.NotAReport (422)
    and Forbidden for a person who may not manage email."""
    _authorise(actor)
    report = dsn.parse(raw)
    message = _matched(report, envelope_to or [])
    if message is None:
        log.info("bounce report %s matches no message (sent to %s, Message-ID %r)",
                 report.key, report.sent_to, report.message_id)
    items = [Incoming(address=message.to_email if message and message.to_email else r.address,
                      kind=r.kind, key=key_of(report.key, r.address), status=r.status,
                      diagnostic=r.diagnostic, delayed=r.delayed,
                      message_id=message.pk if message else None)
             for r in report.recipients if r.address or message]
    return report, record(items, via=via, actor=actor)


def key_of(source: str, address: str) -> str:
    """A report's key for one recipient: holds no address (erasure keeps it)."""
    return f"{source[:150]}:{address_hash(address)[:32]}"


def _authorise(actor: Actor) -> None:
    # Public channels (the listener, a provider's webhook) prove themselves otherwise: a
    # signed VERP address, the webhook's secret.
    if actor.user is not None and not may_manage_email(actor.user):
        raise Forbidden(_("Only administrators and marketing may record bounces."))


def _matched(report: dsn.Report, envelope_to: list[str]) -> EmailMessage | None:
    for address in [*envelope_to, *report.sent_to]:
        pk = verp.message_of(address)
        if pk is not None and (found := EmailMessage.objects.filter(pk=pk).first()):
            return found
    wanted = report.message_id.strip()
    if not wanted:
        return None
    wanted = wanted if wanted.startswith("<") else f"<{wanted}>"
    return EmailMessage.objects.filter(message_id=wanted).order_by("-pk").first()


def record(items: list[Incoming], *, via: str, actor: Actor) -> list[Outcome]:
    """Record bounces and complaints and apply their effects (module docstring); a
    report received twice (same key) is a `duplicate` and changes nothing."""
    _authorise(actor)
    try:
        return _record(list({i.key: i for i in items}.values()), via)
    except IntegrityError:  # the same report, recorded meanwhile by another process
        return _record(list({i.key: i for i in items}.values()), via)


def _record(items: list[Incoming], via: str) -> list[Outcome]:
    seen = set(Bounce.objects.filter(key__in=[i.key for i in items]).values_list("key",
                                                                                flat=True))
    fresh = [i for i in items if i.key not in seen]
    messages = {m.pk: m for m in EmailMessage.objects.filter(
        pk__in=[i.message_id for i in fresh if i.message_id]).only(
        "pk", "lead_id", "to_email", "subject", "status", "attempts", "claimed_by")}
    now = clock.now()
    rows = [Bounce(message_id=i.message_id if i.message_id in messages else None,
                   address=normalise(i.address), address_hash=address_hash(i.address),
                   kind=i.kind, status=i.status[:16], diagnostic=i.diagnostic[:1000],
                   delayed=i.delayed, via=via, key=i.key, received_at=now) for i in fresh]
    with transaction.atomic():
        Bounce.objects.bulk_create(rows)
        effects = _apply([r for r in rows if r.message_id], messages, now)
    outcomes = [Outcome(i.address, i.kind, i.status, i.message_id, "duplicate")
                for i in items if i.key in seen]
    for row in rows:
        effect = effects.get(row.pk, "recorded") if row.message_id else "unmatched"
        outcomes.append(Outcome(row.address, row.kind, row.status, row.message_id, effect))
    return outcomes


def _apply(rows: list[Bounce], messages: dict[int, EmailMessage], now) -> dict[int, str]:
    """The effects of matched bounces; returns {bounce id: effect} where there was one."""
    from leadflow.leads.services import flag_email_bounced

    effects: dict[int, str] = {}
    hard = [r for r in rows if r.kind == HARD]
    complaints = [r for r in rows if r.kind == COMPLAINT]
    soft = [r for r in rows if r.kind == SOFT and not r.delayed]
    over_limit = _over_soft_limit({r.address for r in soft})
    _suppress({r.address for r in hard}, Suppression.Reason.HARD_BOUNCE, now)
    _suppress({r.address for r in complaints}, Suppression.Reason.COMPLAINT, now)
    _suppress(over_limit, Suppression.Reason.SOFT_BOUNCES, now)
    for row in (*hard, *complaints, *(r for r in soft if r.address in over_limit)):
        effects[row.pk] = "suppressed"
    if hard:
        EmailMessage.objects.filter(pk__in=[r.message_id for r in hard]).update(bounced_at=now)
        flag_email_bounced({messages[r.message_id].lead_id: r.address for r in hard})  # type: ignore[index]
    retried = _retry([messages[r.message_id] for r in soft  # type: ignore[index]
                      if r.address not in over_limit])
    effects.update({r.pk: "retry" for r in soft if r.message_id in retried})
    _withdraw_consent([messages[r.message_id].lead_id for r in complaints])  # type: ignore[index]
    _events([*hard, *soft, *complaints], messages)
    return effects


def _suppress(addresses: set[str], reason: str, now) -> None:
    """Put addresses on the suppression list in one statement (a listed one keeps its
    first reason)."""
    Suppression.objects.bulk_create(
        [Suppression(address_hash=address_hash(a), address=normalise(a), reason=reason,
                     created_at=now) for a in sorted(addresses) if a],
        ignore_conflicts=True)


def _over_soft_limit(addresses: set[str]) -> set[str]:
    """The addresses whose soft bounces since their last sign of delivery reach the limit."""
    from django.conf import settings

    if not addresses:
        return set()
    last: dict[str, object] = {}
    for to, *times in (EmailMessage.objects.filter(lead__email__in=addresses,
                                                   to_email__in=addresses)
                       .values("to_email").annotate(Max("delivered_at"), Max("opened_at"),
                                                    Max("clicked_at"))
                       .values_list("to_email", "delivered_at__max", "opened_at__max",
                                    "clicked_at__max")):
        last[address_hash(to)] = max((t for t in times if t is not None), default=None)
    counts: Counter[str] = Counter()
    for hashed, at in Bounce.objects.filter(
            address_hash__in=[address_hash(a) for a in addresses], kind=SOFT,
            delayed=False).values_list("address_hash", "received_at"):
        since = last.get(hashed)
        if since is None or at > since:  # type: ignore[operator]
            counts[hashed] += 1
    return {a for a in addresses if counts[address_hash(a)] >= settings.LEADFLOW_SOFT_BOUNCE_LIMIT}


def _retry(messages: list[EmailMessage]) -> set[int]:
    """Queue soft-bounced messages again, due after the outbox's backoff for their attempt
    count, while they have attempts left (same row, same Message-ID)."""
    by_attempts: dict[int, list[int]] = {}
    for m in messages:
        if m.attempts < EmailMessage.max_attempts:
            by_attempts.setdefault(m.attempts, []).append(m.pk)
    retried: set[int] = set()
    now = clock.now()
    for attempts, ids in by_attempts.items():  # at most max_attempts statements
        rows = EmailMessage.objects.filter(pk__in=ids, status=EmailMessage.Status.SENT,
                                           claimed_by="")
        retried |= set(rows.values_list("pk", flat=True))
        rows.update(status=EmailMessage.Status.QUEUED, due_at=now + workqueue.backoff(attempts),
                    error=_("soft bounce: queued again"))
    return retried


def _withdraw_consent(lead_ids: list[int]) -> None:
    from leadflow.leads.models import Lead
    from leadflow.leads.services import record_consent

    for lead in Lead.objects.select_for_update().filter(pk__in=sorted(set(lead_ids)),
                                                        erased_at__isnull=True).order_by("pk"):
        if lead.marketing_consent or not lead.do_not_email:
            record_consent(lead, granted=False, method="spam complaint")


def _events(rows: list[Bounce], messages: dict[int, EmailMessage]) -> None:
    from leadflow.tracking.services import NewEvent, record_events

    items = []
    for row in rows:
        message = messages[row.message_id]  # type: ignore[index]
        props = {"message_id": message.pk, "subject": message.subject}
        if row.kind == COMPLAINT:
            items.append(NewEvent(type=EventType.EMAIL_COMPLAINED, lead_id=message.lead_id,
                                  properties=props, idempotency_key=f"email_complained:{row.pk}"))
        else:
            items.append(NewEvent(type=EventType.EMAIL_BOUNCED, lead_id=message.lead_id,
                                  properties={**props, "kind": row.kind, "status": row.status,
                                              "diagnostic": row.diagnostic[:300]},
                                  idempotency_key=f"email_bounced:{row.pk}"))
    if items:
        record_events(items, via=Event.Via.EMAIL)


def mark_delivered(message_ids: list[int]) -> int:
    """A provider told us these messages were delivered: the soft-bounce count of their
    address starts again."""
    return EmailMessage.objects.filter(pk__in=message_ids, delivered_at__isnull=True).update(
        delivered_at=clock.now())


def forget_in_bounce_rows(people: list[Person]) -> None:
    """Erasure: bounce records of these addresses keep their hash, kind and times only."""
    hashes = [address_hash(p.email) for p in people if p.email]
    if hashes:
        Bounce.objects.filter(address_hash__in=hashes).update(address="", diagnostic="")
