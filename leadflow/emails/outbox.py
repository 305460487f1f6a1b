"""The outbox: workers send queued messages in batches, over reused SMTP connections.

A batch is claimed (core.workqueue) per lane, transactional first, so that a marketing
burst never holds back an opt-in confirmation for more than one batch. Then, for the
whole batch in a few statements: the send-time checks (emails.policy; a skipped message
records why), rendering of rows not rendered yet (persisted, with their Message-ID,
before any attempt, so every attempt sends the same message under the same Message-ID),
and the rate limits (messages over a limit wait for the next window).

Delivery (emails.delivery) uses several SMTP connections at once, one thread each.
After the server accepts a message its row is marked sent before that connection sends
anything else, so a worker killed at any instant leaves at most one accepted but
unmarked message per connection: its lease runs out and it is sent again under the same
Message-ID. That is the only duplicate a crash can cause. The `email_sent` events of a
batch are stored together at its end; a worker killed before that leaves rows sent but
still held, whose events the next worker stores (`_record_held`).

A failed send is retried with backoff; a 5xx answer fails it at once; a server that
cannot be reached costs no attempt to the messages not tried yet, which wait a few
seconds, and the worker sends nothing more until its next tick. After its last attempt,
or when its worker died during the last attempt, a message is `failed` and
`email_failed` is recorded (a campaign step waiting for it then takes its failure path).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F

from leadflow.core import clock, workqueue
from leadflow.core.sqlarrays import int_array, text_array
from leadflow.emails import delivery, policy, ratelimit
from leadflow.emails.models import EmailMessage
from leadflow.tracking.models import Event, EventType

log = logging.getLogger(__name__)

Status = EmailMessage.Status
WAITING = (Status.QUEUED, Status.SENDING)
LANES = (EmailMessage.Lane.TRANSACTIONAL, EmailMessage.Lane.MARKETING)


def lease() -> timedelta:
    return timedelta(seconds=settings.EMAIL_LEASE_SECONDS)


def send_due(limit: int | None = None, *, worker: str = "") -> int:
    """Claim and send due messages, transactional first, until none is due; returns how
    many were attempted."""
    _record_held()
    attempted = 0
    while True:
        for lane in LANES:
            claim = workqueue.claim(
                EmailMessage.objects.filter(status__in=WAITING, lane=lane),
                limit=limit or settings.EMAIL_BATCH, lease=lease(), worker=worker,
                exhausted=_gave_up, status=Status.SENDING)
            if claim:
                sent, reachable = _send_batch(claim)
                attempted += sent
                if not reachable:
                    # Each batch tried now would cost an attempt to the first message of
                    # every connection (sweeping the whole queue in a long outage): the
                    # next tick tries again.
                    return attempted
                break  # back to the transactional lane before the next marketing batch
        else:
            return attempted


def _send_batch(claim: workqueue.Claim) -> tuple[int, bool]:
    """Returns how many messages were attempted, and whether the server could be
    reached."""
    # In the order they were queued: a frequency cap lets the first ones through.
    messages = list(EmailMessage.objects.filter(pk__in=claim.ids).order_by("pk")
                    .select_related("lead", "template", "sender", "template__sender"))
    verdicts = policy.decide(messages)
    _hold_back(claim, messages, verdicts)
    going = [m for m in messages if m.pk not in verdicts]
    going = _render(claim, going)
    delivery.assign_senders(going)
    going = _rate_limited(claim, going)
    if not going:
        return 0, True
    outcome = delivery.deliver(claim, going)
    _settle(claim, going, outcome)
    return len(going), not outcome.unreachable


def _hold_back(claim: workqueue.Claim, messages: list[EmailMessage],
               verdicts: dict[int, policy.Verdict]) -> None:
    """Skipped messages are settled with their reason (and `email_skipped` on the
    timeline); a frequency cap that waits puts its message back until then."""
    from leadflow.tracking.services import NewEvent, record_events

    if not verdicts:
        return
    by_id = {m.pk: m for m in messages}
    skipped: dict[str, list[int]] = {}
    waiting: dict[datetime, list[int]] = {}
    for pk, verdict in verdicts.items():
        if verdict.wait_until:
            waiting.setdefault(verdict.wait_until, []).append(pk)
        else:
            skipped.setdefault(verdict.skip, []).append(pk)
    for due, ids in waiting.items():
        workqueue.done(claim, ids, due=due, status=Status.QUEUED, attempts=F("attempts") - 1)
    with transaction.atomic():
        for reason, ids in skipped.items():
            workqueue.done(claim, ids, status=Status.SKIPPED, skip_reason=reason,
                           error=policy.reason_label(reason))
        record_events([NewEvent(EventType.EMAIL_SKIPPED, lead_id=by_id[pk].lead_id,
                                idempotency_key=f"email_skipped:{pk}",
                                properties=_about(by_id[pk], reason=reason))
                       for reason, ids in skipped.items() for pk in ids
                       if by_id[pk].lead is not None and not by_id[pk].test],
                      via=Event.Via.EMAIL)


def _about(message: EmailMessage, **more) -> dict:
    return {"message_id": message.pk, "campaign_id": message.campaign_id,
            "template": message.template.name if message.template else "",
            "subject": message.subject, **more}


def _render(claim: workqueue.Claim, messages: list[EmailMessage]) -> list[EmailMessage]:
    """Render the rows queued without their content (campaign steps, one-off sends) and
    keep it: a retry sends exactly this. A template that cannot be rendered fails its
    messages for good (another attempt would fail the same); returns the others."""
    from leadflow.emails import services

    todo = [m for m in messages if not (m.body_text or m.body_html) and m.template]
    if not todo:
        return messages
    broken: dict[int, str] = {}
    try:
        services.render_messages(todo)
    except DatabaseError:
        raise  # not the template's fault: the batch is tried again
    except Exception:  # a bug in rendering: find the messages it breaks, one by one
        for m in todo:
            try:
                services.render_messages([m])
            except DatabaseError:
                raise
            except Exception as exc:
                broken[m.pk] = f"{type(exc).__name__}: {exc}"
    for m in todo:  # a template that cannot be rendered leaves its error, and no body
        if m.error and not (m.body_text or m.body_html):
            broken.setdefault(m.pk, m.error)
    _store_rendered([m for m in todo if m.pk not in broken])
    for m in todo:
        if m.pk in broken:
            _failed(claim, m, f"the template cannot be rendered: {broken[m.pk]}",
                    permanent=True)
    return [m for m in messages if m.pk not in broken]


_RENDERED = ("subject", "body_text", "body_html", "headers", "message_id", "language")


def _store_rendered(messages: list[EmailMessage]) -> None:
    """Keep what was rendered, one UPDATE for the batch. On PostgreSQL the values travel
    as arrays: bulk_update's CASE per column and row cost three times as much, about a
    fifth of a worker's time."""
    if not messages:
        return
    if connection.vendor != "postgresql":
        EmailMessage.objects.bulk_update(messages, list(_RENDERED))
        return
    table = EmailMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET subject = v.subject, body_text = v.body_text, "  # noqa: S608
            "body_html = v.body_html, headers = v.headers::jsonb, message_id = v.message_id, "
            "language = v.language FROM unnest(%s::bigint[], %s::text[], %s::text[], "
            "%s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS v(id, subject, body_text, body_html, headers, message_id, language) "
            "WHERE e.id = v.id",
            [int_array(m.pk for m in messages), *(
                text_array(json.dumps(m.headers) if name == "headers" else getattr(m, name)
                           for m in messages) for name in _RENDERED)])


def _rate_limited(claim: workqueue.Claim, messages: list[EmailMessage]) -> list[EmailMessage]:
    """The messages the rate limits let go now; the others wait for the next window
    (no attempt counted)."""
    for kind, limits, domain_of in (
            ("to", settings.RECIPIENT_RATE_LIMITS, _recipient_domain),
            ("from", settings.SENDING_RATE_LIMITS, delivery.sending_domain)):
        if not limits:
            continue
        groups: dict[str, list[EmailMessage]] = {}
        for m in messages:
            groups.setdefault(domain_of(m), []).append(m)
        kept: list[EmailMessage] = []
        for domain, group in groups.items():
            limit = ratelimit.limit_for(limits, domain)
            if limit is None:
                kept += group
                continue
            allowed, opens = ratelimit.take(f"{kind}:{domain}", len(group), limit)
            kept += group[:allowed]
            if allowed < len(group):
                workqueue.done(claim, [m.pk for m in group[allowed:]], due=opens,
                               status=Status.QUEUED, attempts=F("attempts") - 1)
        messages = kept
    return messages


def _recipient_domain(message: EmailMessage) -> str:
    return message.to_email.rsplit("@", 1)[-1].lower()


def _settle(claim: workqueue.Claim, messages: list[EmailMessage],
            outcome: delivery.Outcome) -> None:
    by_id = {m.pk: m for m in messages}
    for pk, (error, permanent) in outcome.failed.items():
        _failed(claim, by_id[pk], error, permanent=permanent)
    if outcome.untried:
        # The server could not be reached: these were not tried, and wait a little.
        workqueue.done(claim, outcome.untried, due=clock.now() + outcome.pause,
                       status=Status.QUEUED, attempts=F("attempts") - 1)
    _record_sent(claim, [by_id[pk] for pk in outcome.sent])


def _record_sent(claim: workqueue.Claim, messages: list[EmailMessage]) -> None:
    """Store the `email_sent` events of rows marked sent and release them, together."""
    from leadflow.tracking.services import NewEvent, record_events

    if not messages:
        return
    with transaction.atomic():
        # A test send (to its author, with a lead's data) is not on the lead's timeline.
        record_events([NewEvent(EventType.EMAIL_SENT, lead_id=m.lead_id,
                                idempotency_key=f"email_sent:{m.pk}",
                                occurred_at=m.sent_at, properties=_about(m))
                       for m in messages if not m.test], via=Event.Via.EMAIL)
        workqueue.done(claim, [m.pk for m in messages], status=Status.SENT)


def _record_held() -> None:
    """Rows a dead worker marked sent without storing their events (its lease ran out):
    their events are stored now, once (idempotency keys)."""
    stale = list(EmailMessage.objects.filter(status=Status.SENT, due_at__lte=clock.now())
                 .exclude(claimed_by="").select_related("template")[:5000])
    if not stale:
        return
    claim = workqueue.Claim(EmailMessage, [m.pk for m in stale], "", lease(), clock.now())
    by_token: dict[str, list[EmailMessage]] = {}
    for m in stale:
        by_token.setdefault(m.claimed_by, []).append(m)
    for token, group in by_token.items():
        claim.token, claim.ids = token, [m.pk for m in group]
        _record_sent(claim, group)


def _gave_up(claim: workqueue.Claim) -> None:
    """Messages whose worker died during their last attempt (maybe after the server
    accepted them): failed, not sent again on every crash."""
    for message in EmailMessage.objects.filter(pk__in=claim.ids).select_related("lead"):
        _failed(claim, message, "the worker stopped during the last attempt")


@transaction.atomic
def _failed(claim: workqueue.Claim, message: EmailMessage, error: str, *,
            permanent: bool = False) -> None:
    from leadflow.tracking.services import record_event

    final = workqueue.retry(claim, message.pk, error,
                            final={"status": Status.FAILED},
                            again={"status": Status.QUEUED}, permanent=permanent)
    if final and not message.test:
        record_event(EventType.EMAIL_FAILED, lead=message.lead, via=Event.Via.EMAIL,
                     idempotency_key=f"email_failed:{message.pk}:{claim.token}",
                     properties={"message_id": message.pk, "campaign_id": message.campaign_id,
                                 "subject": message.subject, "error": error[:500],
                                 "attempts": claim.attempts.get(message.pk)})
