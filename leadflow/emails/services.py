"""Sending email to leads, and what leads do with it (open, unsubscribe)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.headerregistry import BaseHeader, UnstructuredHeader

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction
from django.urls import reverse

from leadflow.core import clock
from leadflow.emails import tokens
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType

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


# Asked before queueing marketing mail, each `hold(lead) -> bool` (True: not yet). capture
# registers its pending double opt-in (CaptureConfig.ready()): it stands above emails.
_marketing_holds: list[Callable[[Lead], bool]] = []


def register_marketing_hold(hold: Callable[[Lead], bool]) -> None:
    if hold not in _marketing_holds:
        _marketing_holds.append(hold)


def send_template(lead: Lead, template: EmailTemplate, *, dedupe_key: str,
                  campaign_id: int | None = None,
                  context: dict | None = None) -> EmailMessage:
    """Queue `template` for `lead` once per `dedupe_key` (a second call returns the first
    message, whatever its state); a worker sends it (emails.outbox), retrying failures.

    Marketing email is skipped (and recorded as skipped) for leads without an address,
    opted out, marked do-not-email, or awaiting a double opt-in confirmation; it carries
    one-click unsubscribe headers. `context` adds values to the template's (e.g. a link).
    The message is rendered, with its Message-ID, in the transaction that queues it, so
    every attempt sends the same bytes under the same Message-ID.
    """
    existing = EmailMessage.objects.filter(dedupe_key=dedupe_key).first()
    if existing:
        return existing
    # Marketing waits for a pending double opt-in (one query, only for marketing mail).
    skip = not lead.email or (template.marketing and (
        lead.do_not_email or any(hold(lead) for hold in _marketing_holds)))
    try:
        with transaction.atomic():
            message = EmailMessage.objects.create(
                lead=lead, template=template, campaign_id=campaign_id,
                dedupe_key=dedupe_key, to_email=lead.email or "", subject="",
                status=EmailMessage.Status.SKIPPED if skip else EmailMessage.Status.QUEUED)
            if skip:
                message.error = ("no email address" if not lead.email else "lead opted out"
                                 if lead.do_not_email else
                                 "awaiting double opt-in confirmation")
                message.save(update_fields=["error"])
                return message
            _render(message, lead, template, context)
            message.due_at = clock.now()
            message.save(update_fields=["subject", "message_id", "body_text", "body_html",
                                        "headers", "language", "context", "error", "due_at"])
    except IntegrityError:
        return EmailMessage.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(_kick_outbox)
    return message


def _render(message: EmailMessage, lead: Lead, template: EmailTemplate,
            context: dict | None) -> None:
    from leadflow.emails.rendering import render_messages

    message.lead, message.template, message.context = lead, template, context or {}
    render_messages([message])
    if message.error:  # queued in the caller's transaction: refuse it there
        from django.template import TemplateSyntaxError

        raise TemplateSyntaxError(message.error)
    message.message_id = new_message_id()


def new_message_id() -> str:
    return make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> "))


def build(message: EmailMessage) -> EmailMultiAlternatives:
    """The email a queued message sends (the same on every attempt)."""
    headers: dict[str, str] = {"Message-ID": message.message_id}
    for name, value in message.headers.items():
        headers[name] = _one_line(name, value)
    email = EmailMultiAlternatives(subject=message.subject, body=message.body_text,
                                   to=[message.to_email], headers=headers)
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
    `unsubscribed` event. Returns the lead, or None for a bad token. Safe to repeat."""
    parsed = tokens.read_unsubscribe_token(token)
    if parsed is None:
        return None
    lead_id, campaign_id = parsed
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        return None
    if lead.do_not_email and not lead.marketing_consent:
        return lead
    from leadflow.leads.services import record_consent
    from leadflow.tracking.services import record_event

    record_consent(lead, granted=False, method="unsubscribe link", ip=ip)
    record_event(EventType.UNSUBSCRIBED, lead=lead, via=Event.Via.EMAIL,
                 properties={"campaign_id": campaign_id})
    return lead


def record_open(token: str) -> bool:
    """Record an `email_opened` event for the message behind a pixel token (once)."""
    message_id = tokens.read_open_token(token)
    if message_id is None:
        return False
    message = EmailMessage.objects.filter(pk=message_id).select_related("lead").first()
    if message is None:
        return False
    from leadflow.tracking.services import record_event

    _, created = record_event(EventType.EMAIL_OPENED, lead=message.lead, via=Event.Via.EMAIL,
                              idempotency_key=f"email_opened:{message.pk}",
                              properties={"message_id": message.pk,
                                          "campaign_id": message.campaign_id})
    if created:
        EmailMessage.objects.filter(pk=message.pk).update(opened_at=clock.now())
    return created
