"""Campaign steps as background work: a send step waits for its email, failures are
retried with backoff then take the failure path, and a slow batch keeps its lease."""

import socket
from datetime import UTC, datetime

import pytest
from django.db import connection

from leadflow.campaigns.engine import LEASE, claim_due, run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock, workqueue
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.tracking.services import record_event

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


def make_campaign(first_subject: str = "Welcome") -> Campaign:
    welcome = EmailTemplate.objects.create(name="Welcome", subject=first_subject,
                                           body_text="Hello.")
    later = EmailTemplate.objects.create(name="Later", subject="Later", body_text="More.")
    campaign = Campaign.objects.create(name="Onboarding", entry_event_type="signup")
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL, template=welcome),
        Step(campaign=campaign, position=2, kind=Step.Kind.SEND_EMAIL, template=later),
    ])
    return campaign


def use_smtp(settings, port: int) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 5}}}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tick() -> None:
    run_due_enrollments()
    send_due()
    run_due_enrollments()


def test_a_send_step_waits_for_its_email_and_goes_on_once_a_retry_sent_it(
        settings, smtp_server, make_lead):
    working = settings.MAILERS["default"]["OPTIONS"]["port"]
    make_campaign()
    lead = make_lead("ana@example.com")
    record_event("signup", lead=lead)
    use_smtp(settings, closed_port())

    tick()  # the first email fails

    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.next_position) == ("active", 1)
    assert EmailMessage.objects.get().status == EmailMessage.Status.QUEUED
    use_smtp(settings, working)
    clock.advance(workqueue.BACKOFF_BASE)
    tick()
    tick()

    enrollment.refresh_from_db()
    assert [m["Subject"] for m in smtp_server.messages] == ["Welcome", "Later"]
    assert enrollment.status == Enrollment.Status.COMPLETED


def test_after_the_email_s_last_attempt_the_step_takes_its_failure_path(settings,
                                                                       make_lead):
    use_smtp(settings, closed_port())
    make_campaign()
    lead = make_lead("ana@example.com")
    record_event("signup", lead=lead)

    for _ in range(EmailMessage.max_attempts):
        tick()
        clock.advance(workqueue.BACKOFF_MAX)
    tick()

    enrollment = Enrollment.objects.get()
    assert enrollment.status == Enrollment.Status.FAILED
    assert enrollment.exit_reason.startswith("step 1: email not sent")
    [failed] = lead.events.filter(type="campaign_step_failed")
    assert failed.properties["position"] == 1
    assert lead.events.filter(type="email_failed").count() == 1
    assert lead.events.get(type="campaign_left").properties["status"] == "failed"
    assert EmailMessage.objects.count() == 1  # the later step never ran


def test_an_email_whose_template_cannot_be_rendered_fails_and_the_step_takes_its_failure_path(
        make_lead, smtp_server):
    from leadflow.emails.outbox import send_due

    make_campaign(first_subject="{% broken %}")  # the template cannot be rendered
    lead = make_lead("ana@example.com")
    record_event("signup", lead=lead)
    run_due_enrollments()

    send_due()  # rendered by the worker: failed for good, no attempt can fix it
    message = EmailMessage.objects.get()
    assert message.status == EmailMessage.Status.FAILED and message.attempts == 1
    assert "cannot be rendered" in message.error and "broken" in message.error
    run_due_enrollments()

    assert Enrollment.objects.get().status == Enrollment.Status.FAILED
    failed = lead.events.get(type="campaign_step_failed")
    assert "cannot be rendered" in failed.properties["error"]
    assert smtp_server.messages == []


def test_a_step_that_raises_is_retried_with_backoff_then_the_enrollment_fails(
        make_lead, monkeypatch):
    monkeypatch.setenv("LEADFLOW_FAILPOINT", "campaign.step:raise")  # every step breaks
    make_campaign()
    lead = make_lead("ana@example.com")
    record_event("signup", lead=lead)

    attempts = []
    for _ in range(Enrollment.max_attempts):
        assert run_due_enrollments() == 1
        enrollment = Enrollment.objects.get()
        attempts.append(enrollment.attempts)
        assert run_due_enrollments() == 0  # not again before its backoff
        clock.advance(workqueue.BACKOFF_MAX)

    assert attempts == list(range(1, Enrollment.max_attempts + 1))
    enrollment = Enrollment.objects.get()
    assert enrollment.status == Enrollment.Status.FAILED
    assert "FailpointError" in enrollment.last_error
    assert lead.events.filter(type="campaign_step_failed").count() == 1
    assert run_due_enrollments() == 0


def test_an_enrollment_whose_worker_dies_on_every_attempt_takes_its_failure_path(make_lead):
    make_campaign()
    lead = make_lead("ana@example.com")
    record_event("signup", lead=lead)
    for _ in range(Enrollment.max_attempts):
        assert claim_due()  # a worker claimed it, then died before the step was done
        clock.advance(LEASE)

    assert run_due_enrollments() == 0

    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.attempts) == (
        Enrollment.Status.FAILED, Enrollment.max_attempts)
    assert lead.events.filter(type="campaign_step_failed").count() == 1
    assert EmailMessage.objects.count() == 0


def test_a_slow_batch_keeps_its_lease_so_no_other_worker_takes_its_enrollments(make_lead):
    make_campaign()
    for i in range(3):
        record_event("signup", lead=make_lead(f"l{i}@example.com"))
    claimable_meanwhile: list[int] = []
    busy = False

    def slow_send_step(execute, sql, params, many, context):
        # Each email the batch queues takes most of a lease (a slow step); meanwhile a
        # second worker looks for due enrollments.
        nonlocal busy
        result = execute(sql, params, many, context)
        if not busy and sql.startswith('INSERT INTO "emails_emailmessage"'):
            busy = True
            clock.advance(LEASE * 0.6)
            claimable_meanwhile.extend(Enrollment.objects.filter(
                status="active", next_run_at__lte=clock.now()).values_list("pk", flat=True))
            busy = False
        return result

    with connection.execute_wrapper(slow_send_step):
        assert run_due_enrollments() == 3

    assert claimable_meanwhile == []
    assert EmailMessage.objects.count() == 3
