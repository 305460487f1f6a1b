"""The outbox: queued messages are sent by workers, retried, and survive a crashed worker."""

import socket
from datetime import UTC, datetime

import pytest

from leadflow.core import clock, workqueue
from leadflow.emails import outbox
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.services import retry_failed, send_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with clock.travel(T0):
        yield


@pytest.fixture
def welcome(db):
    return EmailTemplate.objects.create(name="Welcome", subject="Welcome {{ lead.first_name }}",
                                        body_text="Hello.")


@pytest.fixture
def smtp_down(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once the socket is closed
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 5}}}


def test_queueing_writes_the_message_with_its_message_id_and_sends_nothing(
        smtp_server, make_lead, welcome):
    lead = make_lead("ana@example.com", first_name="Ana")

    message = send_template(lead, welcome, dedupe_key="w:1")

    assert (message.status, message.attempts) == (EmailMessage.Status.QUEUED, 0)
    assert message.message_id.startswith("<") and message.due_at == T0
    assert smtp_server.messages == []


def test_the_worker_renders_the_message_once_and_keeps_what_it_sent(
        smtp_server, make_lead, welcome):
    lead = make_lead("ana@example.com", first_name="Ana")
    message = send_template(lead, welcome, dedupe_key="w:1")
    lead.first_name = "Anna"  # changed after the send: the kept message does not change
    lead.save(update_fields=["first_name"])

    outbox.send_due()

    message.refresh_from_db()
    assert (message.status, message.subject) == (EmailMessage.Status.SENT, "Welcome Anna")
    assert smtp_server.messages[0]["Subject"] == "Welcome Anna"
    assert smtp_server.messages[0]["Message-ID"] == message.message_id


def test_a_failed_send_is_retried_after_a_backoff_and_its_step_is_not_done(
        settings, smtp_server, smtp_down, make_lead, welcome):
    working = smtp_server  # started first, so its settings were replaced by smtp_down's
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")

    assert outbox.send_due() == 1

    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (
        EmailMessage.Status.QUEUED, 1, None)
    assert message.error and message.due_at == T0 + workqueue.BACKOFF_BASE
    assert not lead.events.filter(type="email_sent").exists()
    assert outbox.send_due() == 0  # not before the backoff is over
    assert working.messages == []


def test_the_retry_sends_the_same_message_id(settings, smtp_server, make_lead, welcome):
    good = settings.MAILERS
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 5}}}
    outbox.send_due()
    settings.MAILERS = good
    clock.advance(workqueue.BACKOFF_BASE)

    outbox.send_due()

    message.refresh_from_db()
    [received] = smtp_server.to("ana@example.com")
    assert (message.status, message.attempts) == (EmailMessage.Status.SENT, 2)
    assert received["Message-ID"] == message.message_id
    assert lead.events.filter(type="email_sent").count() == 1


def test_after_the_last_attempt_the_message_is_failed_and_the_timeline_says_so(
        smtp_down, make_lead, welcome):
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")

    for _ in range(EmailMessage.max_attempts):
        outbox.send_due()
        clock.advance(workqueue.BACKOFF_MAX)

    message.refresh_from_db()
    assert (message.status, message.attempts, message.due_at) == (
        EmailMessage.Status.FAILED, EmailMessage.max_attempts, None)
    [failed] = lead.events.filter(type="email_failed")
    assert failed.properties["message_id"] == message.pk
    assert outbox.send_due() == 0


def test_a_send_left_sending_by_a_dead_worker_is_sent_after_its_lease_not_reported_sent(
        smtp_server, make_lead, welcome):
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")
    # A worker claimed it, then died before (or after) talking to the SMTP server.
    workqueue.claim(EmailMessage.objects.filter(pk=message.pk), limit=1, lease=outbox.lease(),
                    status=EmailMessage.Status.SENDING)

    again = send_template(lead, welcome, dedupe_key="w:1")
    assert again.status == EmailMessage.Status.SENDING  # not claimed as sent
    assert outbox.send_due() == 0  # the lease still holds it
    clock.advance(outbox.lease())
    assert outbox.send_due() == 1

    message.refresh_from_db()
    [received] = smtp_server.to("ana@example.com")
    assert message.status == EmailMessage.Status.SENT
    assert received["Message-ID"] == message.message_id


def test_a_lead_who_opts_out_while_the_message_waits_gets_no_marketing_email(
        smtp_server, make_lead, welcome):
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")
    type(lead).objects.filter(pk=lead.pk).update(do_not_email=True)

    outbox.send_due()

    message.refresh_from_db()
    assert (message.status, message.error) == (EmailMessage.Status.SKIPPED, "do not email")
    assert smtp_server.messages == []


def test_a_person_can_send_a_failed_message_again(smtp_server, make_lead, welcome):
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")
    EmailMessage.objects.filter(pk=message.pk).update(
        status=EmailMessage.Status.FAILED, attempts=5, due_at=None, error="gave up")

    assert retry_failed([message.pk]) == 1
    outbox.send_due()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.SENT, 1)
    assert len(smtp_server.messages) == 1


def test_a_batch_is_sent_in_a_bounded_number_of_queries_per_message(
        smtp_server, make_lead, welcome, django_assert_max_num_queries):
    for i in range(20):
        send_template(make_lead(f"l{i}@example.com"), welcome, dedupe_key=f"w:{i}")

    # Claim, load, then per message: mark sent and record email_sent (its pipeline run);
    # a few more once (lifecycle's stage definitions and rules, read on the first batch).
    with django_assert_max_num_queries(10 + 20 * 12):
        assert outbox.send_due() == 20
    assert len(smtp_server.messages) == 20


def test_a_message_whose_worker_dies_on_every_attempt_fails_instead_of_being_sent_again(
        smtp_server, make_lead, welcome):
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")
    for _ in range(EmailMessage.max_attempts):
        # Claimed, maybe accepted by the server, then the worker died.
        workqueue.claim(EmailMessage.objects.filter(pk=message.pk), limit=1,
                        lease=outbox.lease(), status=EmailMessage.Status.SENDING)
        clock.advance(outbox.lease())

    assert outbox.send_due() == 0

    message.refresh_from_db()
    assert (message.status, message.attempts, message.due_at) == (
        EmailMessage.Status.FAILED, EmailMessage.max_attempts, None)
    assert lead.events.filter(type="email_failed").count() == 1
    assert smtp_server.messages == []


def test_a_recipient_refused_for_good_fails_at_once_without_retries(
        smtp_server, make_lead, welcome):
    smtp_server.refused["ana@example.com"] = "550 5.1.1 No such user"
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")

    assert outbox.send_due() == 1

    message.refresh_from_db()
    assert (message.status, message.attempts, message.due_at) == (
        EmailMessage.Status.FAILED, 1, None)
    assert "No such user" in message.error
    assert lead.events.filter(type="email_failed").count() == 1


def test_a_recipient_refused_for_now_is_retried(smtp_server, make_lead, welcome):
    smtp_server.refused["ana@example.com"] = "450 4.2.1 Mailbox busy, try later"
    lead = make_lead("ana@example.com")
    message = send_template(lead, welcome, dedupe_key="w:1")

    outbox.send_due()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.QUEUED, 1)
