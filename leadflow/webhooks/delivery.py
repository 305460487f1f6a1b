"""Workers send the deliveries due, through core.workqueue (lease, attempts, backoff).

Success is a 2xx answer. Anything else is retried on Standard Webhooks' schedule (5 s,
5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 28 hours over 8 attempts); a refused address
(SSRF) fails at once. A subscription whose deliveries failed for good DISABLE_AFTER times
in a row is turned off and every active admin is notified."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import F, Q

from leadflow.accounts.models import Role, User
from leadflow.core import clock, workqueue
from leadflow.notifications.models import Notification
from leadflow.webhooks import signing, transport
from leadflow.webhooks.models import Delivery, Subscription
from leadflow.webhooks.services import signing_secrets

SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
            timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))
LEASE = timedelta(minutes=2)
BATCH = 50
DISABLE_AFTER = 5
# Posts in flight at once per worker (each waits on the network, not the CPU).
CONCURRENCY = 4
S = Delivery.Status


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def run_due(*, worker: str = "") -> int:
    """Send what is due; returns how many deliveries were attempted. The posts of a claim
    go out CONCURRENCY at a time (threads that touch no database); their results are
    written by this thread, each only while the claim still holds its row."""
    sent = 0
    queue = Delivery.objects.filter(status__in=(S.PENDING, S.SENDING))
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        while claim := workqueue.claim(queue, limit=BATCH, lease=LEASE, worker=worker,
                                       exhausted=_exhausted, status=S.SENDING):
            rows = list(Delivery.objects.filter(pk__among=claim.ids)
                        .select_related("subscription"))
            for delivery, outcome in zip(rows, pool.map(_post, rows), strict=True):
                workqueue.keep_alive(claim)
                _record(claim, delivery, outcome)
                sent += 1
    return sent


@dataclass
class _Outcome:
    headers: dict[str, str] = field(default_factory=dict)
    answer: transport.Answer | None = None
    error: str = ""
    refused: bool = False
    skipped: bool = False


def _post(delivery: Delivery) -> _Outcome:
    sub = delivery.subscription
    if not sub.active and delivery.kind != "webhook.test":
        return _Outcome(error="subscription disabled", skipped=True)
    body = body_of(delivery)
    timestamp = int(clock.now().timestamp())
    headers = signing.headers(signing_secrets(sub), delivery.message_id, timestamp, body)
    # The log keeps which headers were sent, not the signatures (they prove the secret).
    shown = {**headers, "webhook-signature": "(v1 signatures)"}
    try:
        answer = transport.post(sub.url, body, headers, allow_private=sub.allow_private)
    except transport.Refused as e:
        return _Outcome(shown, error=str(e), refused=True)
    except (OSError, http.client.HTTPException) as e:
        return _Outcome(shown, error=f"{type(e).__name__}: {e}")
    return _Outcome(shown, answer)


def _record(claim: workqueue.Claim, delivery: Delivery, outcome: _Outcome) -> None:
    if outcome.skipped:
        _final(claim, delivery, outcome.error, count=False)
        return
    shown, answer = outcome.headers, outcome.answer
    if outcome.refused:
        _final(claim, delivery, outcome.error, request_headers=shown)
    elif answer is None:
        _failed(claim, delivery, outcome.error, request_headers=shown)
    elif 200 <= answer.status < 300:
        held = workqueue.done(claim, delivery.pk, status=S.DELIVERED,
                              delivered_at=clock.now(), response_status=answer.status,
                              response_body=answer.body, request_headers=shown,
                              last_error="")
        if held and delivery.subscription.failures:
            Subscription.objects.filter(pk=delivery.subscription_id).update(failures=0)
    else:
        _failed(claim, delivery, f"HTTP {answer.status}", request_headers=shown,
                response_status=answer.status, response_body=answer.body)


def _failed(claim: workqueue.Claim, delivery: Delivery, error: str, **values: Any) -> None:
    attempt = claim.attempts.get(delivery.pk, Delivery.max_attempts)
    if attempt >= Delivery.max_attempts:
        _final(claim, delivery, error, **values)
        return
    wait = SCHEDULE[min(attempt, len(SCHEDULE)) - 1]
    workqueue.done(claim, delivery.pk, due=clock.now() + wait, status=S.PENDING,
                   last_error=error[:2000], **values)


def _final(claim: workqueue.Claim, delivery: Delivery, error: str, *, count: bool = True,
           **values: Any) -> None:
    if workqueue.done(claim, delivery.pk, status=S.FAILED, last_error=error[:2000],
                      **values) and count and delivery.kind != "webhook.test":
        _count_failure(delivery.subscription_id)


def _exhausted(claim: workqueue.Claim) -> None:
    """Rows whose worker died on their last attempt: failed for good."""
    for delivery in Delivery.objects.filter(pk__among=claim.ids):
        _final(claim, delivery, "the worker stopped during the last attempt")


def _count_failure(sub_id: int) -> None:
    Subscription.objects.filter(pk=sub_id).update(failures=F("failures") + 1)
    disabled = Subscription.objects.filter(pk=sub_id, active=True,
                                           failures__gte=DISABLE_AFTER).update(
        active=False, updated_at=clock.now(),
        disabled_reason=f"{DISABLE_AFTER} deliveries in a row failed")
    if disabled:
        _tell_admins(Subscription.objects.get(pk=sub_id))


def _tell_admins(sub: Subscription) -> None:
    now = clock.now()
    admins = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
    Notification.objects.bulk_create(
        [Notification(kind=Notification.Kind.WEBHOOK_DISABLED, user=admin, created_at=now,
                      dedupe_key=f"webhook_disabled:{sub.pk}:{now.isoformat()}:{admin.pk}"[:120],
                      payload={"subscription_id": sub.pk, "name": sub.name, "url": sub.url})
         for admin in admins], ignore_conflicts=True)
