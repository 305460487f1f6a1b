"""The outbox: workers send queued messages, one SMTP connection per claimed batch.

A message is claimed (core.workqueue) with status `sending`; once the SMTP server has
accepted it the row becomes `sent` and `email_sent` is recorded. A failed send is
retried with backoff; after its last attempt, at once when the server refuses it for
good (a 5xx answer), or when its worker died during the last attempt, it is `failed`
and `email_failed` is recorded (a campaign step waiting for it then takes its failure
path). A worker that dies between the server's acceptance and the row's update leaves
the row `sending`: its lease runs out and the message is sent again, under the same
Message-ID, so a receiving server or a person can tell the copy. That is the only
duplicate a crash can cause, and at most once per attempt.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.core import mail
from django.db import transaction

from leadflow.core import clock, failpoints, workqueue
from leadflow.emails.models import EmailMessage
from leadflow.emails.services import build
from leadflow.tracking.models import Event, EventType

log = logging.getLogger(__name__)

BATCH = 50
# Long enough for a batch of SMTP round trips; renewed between messages anyway.
LEASE = timedelta(minutes=2)
WAITING = (EmailMessage.Status.QUEUED, EmailMessage.Status.SENDING)


def send_due(limit: int = BATCH, *, worker: str = "") -> int:
    """Claim and send due messages until none is due; returns how many were attempted."""
    attempted = 0
    while claim := workqueue.claim(EmailMessage.objects.filter(status__in=WAITING),
                                   limit=limit, lease=LEASE, worker=worker,
                                   exhausted=_gave_up, status=EmailMessage.Status.SENDING):
        attempted += _send_batch(claim)
    return attempted


def _send_batch(claim: workqueue.Claim) -> int:
    messages = {m.pk: m for m in EmailMessage.objects.filter(pk__in=claim.ids)
                .select_related("lead", "template")}
    connection = mail.mailers.default
    attempted = 0
    try:
        for pk in workqueue.each(claim):
            message = messages.get(pk)
            if message is None:  # deleted meanwhile (the lead was erased): nothing to send
                continue
            if "List-Unsubscribe" in message.headers and message.lead.do_not_email:
                # Opted out after it was queued: marketing mail no longer goes.
                workqueue.done(claim, pk, status=EmailMessage.Status.SKIPPED,
                               error="lead opted out")
                continue
            attempted += 1
            try:
                connection.open()  # once per batch: a no-op while the connection is open
                connection.send_messages([build(message)])
            except Exception as exc:  # SMTP failures are expected: retry, then give up
                log.warning("email %s to lead %s failed (attempt %s): %s", pk,
                            message.lead_id, claim.attempts.get(pk), exc)
                _failed(claim, message, str(exc) or type(exc).__name__,
                        permanent=_permanent(exc))
                _close(connection)  # a broken connection is reopened by the next send
                continue
            failpoints.hit("email.after_smtp")
            _sent(claim, message)
    finally:
        _close(connection)
    return attempted


def _permanent(exc: Exception) -> bool:
    """A 5xx answer refuses the message for good: sending it again gets the same answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _gave_up(claim: workqueue.Claim) -> None:
    """Messages whose worker died during their last attempt (maybe after the server
    accepted them): failed, not sent again on every crash."""
    for message in EmailMessage.objects.filter(pk__in=claim.ids).select_related("lead"):
        _failed(claim, message, "the worker stopped during the last attempt")


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:
        log.debug("closing the mail connection failed", exc_info=True)


@transaction.atomic
def _sent(claim: workqueue.Claim, message: EmailMessage) -> None:
    from leadflow.tracking.services import record_event

    if not workqueue.done(claim, message.pk, status=EmailMessage.Status.SENT,
                          sent_at=clock.now(), error=""):
        return  # another worker took it over meanwhile; it records the sending
    record_event(EventType.EMAIL_SENT, lead=message.lead, via=Event.Via.EMAIL,
                 idempotency_key=f"email_sent:{message.pk}",
                 properties={"message_id": message.pk,
                             "template": message.template.name if message.template else "",
                             "campaign_id": message.campaign_id, "subject": message.subject})


@transaction.atomic
def _failed(claim: workqueue.Claim, message: EmailMessage, error: str, *,
            permanent: bool = False) -> None:
    from leadflow.tracking.services import record_event

    final = workqueue.retry(claim, message.pk, error,
                            final={"status": EmailMessage.Status.FAILED},
                            again={"status": EmailMessage.Status.QUEUED}, permanent=permanent)
    if final:
        record_event(EventType.EMAIL_FAILED, lead=message.lead, via=Event.Via.EMAIL,
                     idempotency_key=f"email_failed:{message.pk}:{claim.token}",
                     properties={"message_id": message.pk, "campaign_id": message.campaign_id,
                                 "subject": message.subject, "error": error[:500],
                                 "attempts": claim.attempts.get(message.pk)})
