"""Sending email to leads, and what leads do with it (open, unsubscribe)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from email.headerregistry import BaseHeader, UnstructuredHeader
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from leadflow.core import clock
from leadflow.emails import policy, tokens
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.emails.engagement import Hit

log = logging.getLogger(__name__)


class OneLineHeader(UnstructuredHeader, BaseHeader):
    """A header written on one line, as given.

    Python folds a header with a word longer than a line (any real unsubscribe URL) into
    RFC 2047 encoded words: `<https://...>` would go out as `=?utf-8?q?=3Chttps...?=`,
    which mail providers do not read as a URL, so one-click unsubscribe would not work.
    RFC 5322 allows lines of up to 998 characters; a URL is far shorter.
    """

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _one_line(name: str, value: str) -> str:
    if not value.isascii() or len(name) + len(value) > 900:
        return value  # let Python encode and fold it (never the case for our URLs)
    return OneLineHeader(name, value)


def unsubscribe_url(lead: Lead, campaign_id: int | None) -> str:
    token = tokens.unsubscribe_token(lead.pk, campaign_id)
    return settings.BASE_URL + reverse("emails:unsubscribe", args=[token])


def register_marketing_hold(hold: Callable[[list[int]], set[int]]) -> None:
    """`hold(lead ids) -> the ids held back`: marketing mail waits for them (capture's
    pending double opt-ins; capture stands above emails)."""
    policy.register_marketing_hold(hold)


def send_template(lead: Lead, template: EmailTemplate, *, dedupe_key: str,
                  campaign_id: int | None = None,
                  context: dict | None = None, skip: str = "") -> EmailMessage:
    """Queue `template` for `lead` once per `dedupe_key` (a second call returns the first
    message, whatever its state); a worker renders and sends it (emails.outbox).

    The send-time checks (emails.policy: consent, do-not-email, suppression, topics,
    frequency caps...) run now, so that a message that cannot go is skipped at once with
    its reason, and again when a worker sends it. `context` adds values to the
    template's (e.g. a link); it must be JSON (it is stored with the row). `skip` (an
    EmailMessage.Skip value) records the message skipped for that reason (a campaign in
    test mode, for a lead off its test list). A skip is on the lead's timeline.
    """
    return send_template_many([(lead, dedupe_key)], template, campaign_id=campaign_id,
                              context=context,
                              skip={lead.pk: skip} if skip else None)[dedupe_key]


def send_template_many(sends: Sequence[tuple[Lead, str]], template: EmailTemplate, *,
                       campaign_id: int | None = None, context: dict | None = None,
                       skip: dict[int, str] | None = None) -> dict[str, EmailMessage]:
    """send_template for many (lead, dedupe key) pairs at once, in a constant number of
    queries: returns dedupe key -> its message (new, or the one queued before under that
    key). `skip` maps lead ids to the reason their message is recorded skipped."""
    from leadflow.tracking.services import NewEvent, record_events

    keys = [key for _, key in sends]
    found = {m.dedupe_key: m for m in EmailMessage.objects.filter(dedupe_key__among=keys)}
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
    now = clock.now()
    lane = (EmailMessage.Lane.MARKETING if template.marketing
            else EmailMessage.Lane.TRANSACTIONAL)
    fresh = [EmailMessage(
        lead=lead, template=template, campaign_id=campaign_id, dedupe_key=key,
        to_email=lead.email or "", subject="", status=EmailMessage.Status.QUEUED, lane=lane,
        topic_id=template.topic_id, sender_id=template.sender_id, context=context or {},
        message_id=make_msgid(domain=domain), due_at=now)
        for lead, key in dict((key, (lead, key)) for lead, key in sends).values()
        if key not in found]
    skip = skip or {}
    checked = [m for m in fresh if not skip.get(m.lead_id)]
    for i, message in enumerate(checked):  # policy names its verdicts by id: stand-ins
        message.pk = -1 - i
    verdicts = policy.decide(checked) if checked else {}
    for i, message in enumerate(checked):
        message.pk = None
        if (verdict := verdicts.get(-1 - i)) and verdict.wait_until:
            message.due_at = verdict.wait_until
        elif verdict:
            skip_message(message, verdict.skip)
    for message in fresh:
        if reason := skip.get(message.lead_id):
            skip_message(message, reason)
    try:
        with transaction.atomic():
            EmailMessage.objects.bulk_create(fresh)
    except IntegrityError:  # a concurrent call queued some of them: one at a time
        if len(fresh) == 1:
            found.update({m.dedupe_key: m for m in EmailMessage.objects.filter(
                dedupe_key=fresh[0].dedupe_key)})
            return found
        for message in fresh:
            found.update(send_template_many([(message.lead, message.dedupe_key)], template,
                                            campaign_id=campaign_id, context=context,
                                            skip=skip))
        return found
    if fresh and connection.vendor != "postgresql":
        # Only PostgreSQL returns the new ids from a bulk insert.
        ids = dict(EmailMessage.objects.filter(dedupe_key__among=[m.dedupe_key for m in fresh])
                   .values_list("dedupe_key", "pk"))
        for message in fresh:
            message.pk = message.id = ids[message.dedupe_key]
    if any(m.status == EmailMessage.Status.QUEUED for m in fresh):
        transaction.on_commit(_kick_outbox)
    skipped = [m for m in fresh if m.status == EmailMessage.Status.SKIPPED]
    if skipped:
        record_events([NewEvent(EventType.EMAIL_SKIPPED, lead_id=m.lead_id,
                                idempotency_key=f"email_skipped:{m.pk}",
                                properties={"message_id": m.pk, "campaign_id": campaign_id,
                                            "template": template.name, "subject": "",
                                            "reason": m.skip_reason})
                       for m in skipped], via=Event.Via.EMAIL)
    found.update({m.dedupe_key: m for m in fresh})
    return found


def skip_message(message: EmailMessage, reason: str) -> None:
    message.status, message.skip_reason, message.due_at = (
        EmailMessage.Status.SKIPPED, reason, None)
    message.error = policy.reason_label(reason)


def render_messages(messages: list[EmailMessage]) -> None:
    """Fill in each message's subject, bodies, headers and language from its template (not
    saved; emails.rendering); a message whose template cannot be rendered is left with
    its `error` set and no body. Each gets a Message-ID if it had none."""
    from leadflow.emails.rendering import render_messages as render

    render(messages)
    for message in messages:
        if not message.message_id:
            message.message_id = new_message_id()


def new_message_id() -> str:
    return make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> "))


def build(message: EmailMessage) -> EmailMultiAlternatives:
    """The email a queued message sends through a mail backend other than SMTP (a
    provider through django-anymail); the SMTP path writes the bytes itself
    (emails.delivery). `message.envelope_sender` is set (delivery.assign_senders)."""
    from leadflow.emails.mime import address

    sender = message.envelope_sender
    headers: dict[str, str] = {"Message-ID": message.message_id}
    if sender.reply_to:
        headers["Reply-To"] = sender.reply_to
    for name, value in message.headers.items():
        headers[name] = _one_line(name, value)
    email = EmailMultiAlternatives(subject=message.subject, body=message.body_text,
                                   from_email=address((sender.name, sender.address)),
                                   to=[message.to_email], headers=headers)
    # A provider's events name the message back (emails.provider_events); a provider
    # signs DKIM itself.
    email.metadata = {"leadflow_message_id": str(message.pk)}  # type: ignore[attr-defined]
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


def _kick_outbox() -> None:
    from leadflow.emails.tasks import send_outbox_task

    try:
        send_outbox_task.enqueue()
    except Exception:  # the periodic tick sends it anyway
        log.exception("could not enqueue send_outbox_task")


def retry_failed(message_ids: list[int]) -> int:
    """Queue finally failed messages again, with a fresh attempt count (a person's
    decision, from the admin); returns how many were queued."""
    from leadflow.core import workqueue

    count = workqueue.reset(EmailMessage.objects.filter(
        pk__in=message_ids, status=EmailMessage.Status.FAILED), status=EmailMessage.Status.QUEUED)
    if count:
        transaction.on_commit(_kick_outbox)
    return count


@transaction.atomic
def unsubscribe(token: str, *, ip: str | None = None) -> Lead | None:
    """Honour an unsubscribe link at once: do-not-email, consent withdrawn, an
    `unsubscribed` event, the address on the suppression list (reason unsubscribed).
    Returns the lead, or None for a bad token. Safe to repeat."""
    parsed = tokens.read_unsubscribe_token(token)
    if parsed is None:
        return None
    lead_id, campaign_id = parsed
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        return None
    withdraw_marketing(lead, method="unsubscribe link", ip=ip,
                       properties={"campaign_id": campaign_id})
    return lead


def withdraw_marketing(lead: Lead, *, method: str, ip: str | None,
                       properties: dict) -> bool:
    """The person asked for no more marketing email (an unsubscribe link, "all off" in
    the preference centre): consent withdrawn and do-not-email (record_consent), an
    `unsubscribed` event, and the address suppressed (reason unsubscribed) so that no
    other lead with this address is mailed either. Only a new confirmed opt-in undoes it.
    Preconditions: `lead` is locked by the caller's transaction. Returns False when the
    lead had already withdrawn (nothing is recorded twice)."""
    from leadflow.emails.models import Suppression
    from leadflow.emails.suppression import suppress

    if lead.email:
        suppress(lead.email, Suppression.Reason.UNSUBSCRIBED)
    if lead.do_not_email and not lead.marketing_consent:
        return False
    from leadflow.leads.services import record_consent
    from leadflow.tracking.services import record_event

    record_consent(lead, granted=False, method=method, ip=ip)
    record_event(EventType.UNSUBSCRIBED, lead=lead, via=Event.Via.EMAIL,
                 properties=properties)
    return True


def record_open(token: str, hit: Hit | None = None) -> bool:
    """Record an `email_opened` event for the message behind a pixel token: once per
    message and class (emails.engagement), and only a person's open sets opened_at.
    Returns whether an event was recorded."""
    message_id = tokens.read_open_token(token)
    if message_id is None:
        return False
    message = EmailMessage.objects.filter(pk=message_id).select_related("lead").first()
    if message is None:
        return False
    from leadflow.emails.engagement import Hit, classify_open
    from leadflow.tracking.services import record_event

    verdict = classify_open(hit or Hit())
    _, created = record_event(EventType.EMAIL_OPENED, lead=message.lead, via=Event.Via.EMAIL,
                              idempotency_key=verdict.key(f"email_opened:{message.pk}"),
                              properties={"message_id": message.pk,
                                          "campaign_id": message.campaign_id,
                                          **verdict.properties()})
    if created and verdict.human:
        EmailMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(
            opened_at=clock.now())
    return created
