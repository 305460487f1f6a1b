"""A membership waiting at a decision is woken by the event it waits for: due again within
the request that records it, so the next run takes the yes path within seconds. A proxy's
open wakes it too but does not count; what the lead does after the time limit does not
count either, however late the membership is looked at."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.tokens import open_token
from leadflow.tracking.services import record_event
from leadflow.tracking.tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WITHIN = timedelta(days=3)
APPLE_MPP = {"REMOTE_ADDR": "17.58.63.10", "HTTP_USER_AGENT": "Mozilla/5.0"}
PERSON = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": BROWSER_UA}


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.MARKETING_BASIS = "legitimate_interest"  # about decisions, not the legal basis
    with clock.travel(T0):
        yield


def demo_campaign() -> Campaign:
    """Asked for a demo within three days? yes: +10 points; no: leaves."""
    campaign = Campaign.objects.create(name="Demo", entry_event_type="signup")
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.IF_EVENT,
             config={"event_type": "demo_requested",
                     "within_seconds": int(WITHIN.total_seconds()),
                     "where": [{"field": "plan", "op": "equals", "value": "pro"}]}),
        Step(campaign=campaign, position=2, kind=Step.Kind.ADD_POINTS, points=10)])
    return campaign


def opened_campaign() -> Campaign:
    """Send an offer; opened it within three days? yes: +10 points; no: leaves."""
    offer = EmailTemplate.objects.create(name="Offer", subject="Offer", body_text="Hi",
                                         body_html="<p>Our offer</p>")
    campaign = Campaign.objects.create(name="Offer", entry_event_type="signup")
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL, template=offer),
        Step(campaign=campaign, position=2, kind=Step.Kind.IF_OPENED,
             config={"within_seconds": int(WITHIN.total_seconds())}),
        Step(campaign=campaign, position=3, kind=Step.Kind.ADD_POINTS, points=10)])
    return campaign


def waiting(lead) -> Enrollment:
    record_event("signup", lead=lead)
    run_due_enrollments()
    send_due()
    run_due_enrollments()
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.waits_for and enrollment.next_run_at > clock.now()
    return enrollment


def test_the_awaited_event_makes_the_waiting_membership_due_at_once(make_lead):
    demo_campaign()
    lead = make_lead("ana@example.com")
    enrollment = waiting(lead)
    assert (enrollment.waits_for, enrollment.deadline) == ("demo_requested", T0 + WITHIN)
    clock.advance(timedelta(hours=5))

    record_event("demo_requested", lead=lead, properties={"plan": "pro"})

    enrollment.refresh_from_db()
    assert enrollment.next_run_at <= clock.now()
    assert run_due_enrollments() == 1
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert lead.events.get(type="campaign_points").properties["points"] == 10


def test_an_event_that_does_not_match_leaves_it_waiting_until_the_limit(make_lead):
    demo_campaign()
    lead = make_lead("bob@example.com")
    enrollment = waiting(lead)

    record_event("demo_requested", lead=lead, properties={"plan": "free"})
    run_due_enrollments()

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.next_position) == ("active", 1)
    assert enrollment.next_run_at == enrollment.deadline == T0 + WITHIN


def test_an_event_after_the_time_limit_does_not_count_when_the_run_is_late(make_lead):
    demo_campaign()
    lead = make_lead("eve@example.com")
    enrollment = waiting(lead)
    clock.advance(WITHIN)  # the limit is over, and no worker ran yet

    record_event("demo_requested", lead=lead, properties={"plan": "pro"})
    run_due_enrollments()

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.EXITED
    assert not lead.events.filter(type="campaign_points").exists()


def test_a_proxy_open_wakes_the_membership_but_does_not_take_it_past_if_opened(make_lead):
    opened_campaign()
    lead = make_lead("mickael@example.com")
    enrollment = waiting(lead)
    assert enrollment.waits_for == "email_opened"
    pixel = f"/e/o/{open_token(EmailMessage.objects.get(lead=lead).pk)}.gif"
    clock.advance(timedelta(hours=1))

    Client(**APPLE_MPP).get(pixel)  # Apple Mail Privacy Protection loads every image

    assert lead.events.get(type="email_opened").properties["engagement"] == "machine"
    run_due_enrollments()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.next_position) == ("active", 2)
    assert enrollment.next_run_at == T0 + WITHIN
    assert not lead.events.filter(type="campaign_points").exists()

    clock.advance(timedelta(hours=1))
    Client(**PERSON).get(pixel)  # the reader opens it

    enrollment.refresh_from_db()
    assert enrollment.next_run_at <= clock.now()
    run_due_enrollments()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert lead.events.get(type="campaign_points").properties["points"] == 10
