"""A campaign decision on its emails ("go on only if a link was clicked") counts a
person's engagement: a link scanner's clicks and a privacy proxy's opens do not move a
lead along, unless the step says to count machines too."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock
from leadflow.emails.models import EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.tracking.services import record_event
from leadflow.tracking.tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

BASE = "https://leads.example.com"
SAFE_LINKS = {"REMOTE_ADDR": "40.107.22.54", "HTTP_USER_AGENT": BROWSER_UA}
PERSON = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": BROWSER_UA}


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.BASE_URL = BASE
    settings.MARKETING_BASIS = "legitimate_interest"  # about decisions, not the legal basis
    with clock.travel():
        yield


def campaign(count_machines: bool = False) -> Campaign:
    offer = EmailTemplate.objects.create(
        name="Offer", subject="Offer", body_text="Hi",
        body_html='<p><a href="https://shop.example.com/offer">See the offer</a></p>')
    c = Campaign.objects.create(name="Offer", entry_event_type="signup")
    Step.objects.bulk_create([
        Step(campaign=c, position=1, kind=Step.Kind.SEND_EMAIL, template=offer),
        Step(campaign=c, position=2, kind=Step.Kind.WAIT, wait_seconds=86400),
        Step(campaign=c, position=3, kind=Step.Kind.IF_CLICKED,
             count_machines=count_machines),
        Step(campaign=c, position=4, kind=Step.Kind.ADD_POINTS, points=20)])
    return c


def enrol_and_send(lead, smtp_server) -> str:
    record_event("signup", lead=lead)
    run_due_enrollments()
    send_due()
    run_due_enrollments()  # the email is sent: on to the wait
    body = next(p for p in smtp_server.to(lead.email)[0].walk()
                if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    return re.search(rf'href="{BASE}(/e/c/[^"]+)"', body)[1]


def after_the_wait() -> None:
    clock.advance(timedelta(days=1, seconds=1))
    run_due_enrollments()


def test_a_scanner_click_does_not_take_the_lead_past_the_decision(smtp_server, make_lead):
    campaign()
    lead = make_lead("ana@example.com")
    link = enrol_and_send(lead, smtp_server)

    Client(**SAFE_LINKS).get(link)  # a link scanner, within a second of delivery
    after_the_wait()

    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.status == Enrollment.Status.EXITED
    assert not lead.events.filter(type="campaign_points").exists()
    assert lead.events.get(type="email_clicked").properties["engagement"] == "machine"


def test_a_persons_click_takes_the_lead_on(smtp_server, make_lead):
    campaign()
    lead = make_lead("bob@example.com")
    link = enrol_and_send(lead, smtp_server)

    clock.advance(timedelta(minutes=20))
    Client(**PERSON).get(link)
    after_the_wait()

    assert Enrollment.objects.get(lead=lead).status == Enrollment.Status.COMPLETED
    assert lead.events.get(type="campaign_points").properties["points"] == 20


def test_a_step_told_to_count_machines_lets_a_scanner_click_through(smtp_server, make_lead):
    campaign(count_machines=True)
    lead = make_lead("eve@example.com")
    link = enrol_and_send(lead, smtp_server)

    Client(**SAFE_LINKS).get(link)
    after_the_wait()

    assert Enrollment.objects.get(lead=lead).status == Enrollment.Status.COMPLETED
