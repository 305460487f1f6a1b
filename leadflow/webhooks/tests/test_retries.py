"""A failed delivery is retried on a schedule spanning about a day, then failed; a
subscription failing again and again is disabled and the admins told; a delivery can be
sent again by hand, and a test message on demand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadflow.core import clock
from leadflow.notifications.models import Notification
from leadflow.webhooks import delivery as worker
from leadflow.webhooks.models import Delivery
from leadflow.webhooks.services import redeliver, send_test, update_subscription


@pytest.fixture(autouse=True)
def _frozen_clock():
    with clock.travel(clock.now()):
        yield


def _run_until_final(receiver) -> list[timedelta]:
    """Run the worker whenever the delivery is due; the waits between attempts."""
    waits = []
    while True:
        worker.run_due()
        d = Delivery.objects.get()
        if d.status != Delivery.Status.PENDING:
            return waits
        waits.append(d.due_at - clock.now())
        clock.advance(d.due_at - clock.now())


def test_a_failing_endpoint_is_retried_with_backoff_for_about_a_day(
        db, receiver, subscribe, make_lead):
    subscribe(receiver.url)
    receiver.statuses = [500] * 20
    make_lead("ada@example.com")
    waits = _run_until_final(receiver)
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.FAILED
    assert d.attempts == Delivery.max_attempts == len(receiver.requests)
    assert waits == list(worker.SCHEDULE)
    assert all(a < b for a, b in zip(waits, waits[1:-1], strict=False))
    assert timedelta(hours=20) <= sum(waits, timedelta()) <= timedelta(hours=36)
    assert d.response_status == 500 and d.response_body == "nope"
    assert d.last_error == "HTTP 500"
    # Every attempt is the same message: receivers drop duplicates by webhook-id.
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


def test_a_retry_that_succeeds_is_delivered_and_not_sent_again(
        db, receiver, subscribe, make_lead):
    subscribe(receiver.url)
    receiver.statuses = [503, 502]
    make_lead("ada@example.com")
    _run_until_final(receiver)
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.DELIVERED and d.attempts == 3
    assert d.response_status == 200 and d.delivered_at is not None
    assert "webhook-signature" in d.request_headers
    assert "v1," not in str(d.request_headers)  # the log keeps no signature
    clock.advance(timedelta(days=2))
    assert worker.run_due() == 0
    assert len(receiver.requests) == 3


def test_repeated_failures_disable_the_subscription_and_tell_the_admins(
        db, receiver, subscribe, make_lead, admin_user):
    sub = subscribe(receiver.url)
    receiver.statuses = [500] * 1000
    for i in range(worker.DISABLE_AFTER):
        make_lead(f"p{i}@example.com")
    for _ in range(Delivery.max_attempts):
        worker.run_due()
        clock.advance(timedelta(hours=11))
    sub.refresh_from_db()
    assert not sub.active
    assert sub.failures == worker.DISABLE_AFTER
    assert sub.disabled_reason
    note = Notification.objects.get(kind=Notification.Kind.WEBHOOK_DISABLED)
    assert note.user == admin_user and note.payload["subscription_id"] == sub.pk
    # Disabled: new events queue nothing.
    make_lead("later@example.com")
    assert Delivery.objects.filter(lead__email="later@example.com").count() == 0
    # Turned back on by an admin, it starts afresh.
    update_subscription(sub, {"active": True}, actor=admin_user)
    sub.refresh_from_db()
    assert sub.active and sub.failures == 0 and not sub.disabled_reason


def test_a_success_resets_the_failure_count(db, receiver, subscribe, make_lead):
    sub = subscribe(receiver.url)
    receiver.statuses = [500] * Delivery.max_attempts
    make_lead("ada@example.com")
    _run_until_final(receiver)
    sub.refresh_from_db()
    assert sub.failures == 1
    make_lead("bob@example.com")
    worker.run_due()
    sub.refresh_from_db()
    assert sub.failures == 0


def test_a_failed_delivery_is_sent_again_by_hand(db, receiver, subscribe, make_lead,
                                                 admin_user):
    subscribe(receiver.url)
    receiver.statuses = [500] * Delivery.max_attempts
    make_lead("ada@example.com")
    _run_until_final(receiver)
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.FAILED
    redeliver(d, actor=admin_user)
    worker.run_due()
    d.refresh_from_db()
    assert d.status == Delivery.Status.DELIVERED and d.attempts == 1
    assert receiver.requests[-1].headers["webhook-id"] == d.message_id


def test_send_test_delivers_a_test_message(db, receiver, subscribe, admin_user):
    sub = subscribe(receiver.url, events=["lead.won"])
    send_test(sub, actor=admin_user)
    worker.run_due()
    [got] = receiver.requests
    assert b'"type":"webhook.test"' in got.body


def test_a_timeout_or_refused_connection_is_retried(db, subscribe, make_lead):
    subscribe("http://127.0.0.1:9/closed")  # the discard port: nothing listens
    make_lead("ada@example.com")
    worker.run_due()
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.PENDING and d.attempts == 1
    assert "Error" in d.last_error
    assert d.due_at == clock.now() + worker.SCHEDULE[0]
