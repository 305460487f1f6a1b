"""A campaign in test mode sends its emails only to the leads on its test list: the
others' are recorded skipped (`not_test`) and their walk goes on; no test list, no email."""

from datetime import UTC, datetime

import pytest

from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.campaigns.services import enroll
from leadflow.core import clock
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.lists import services as lists

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
def campaign(db) -> Campaign:
    """One email, then 5 points."""
    hello = EmailTemplate.objects.create(name="Hello", subject="Hello", body_text="Hi.")
    campaign = Campaign.objects.create(name="Launch", entry_event_type="newsletter_signup",
                                       test_mode=True)
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL, template=hello),
        Step(campaign=campaign, position=2, kind=Step.Kind.ADD_POINTS, points=5)])
    return campaign


def test_in_test_mode_only_the_test_list_gets_the_email_and_everyone_walks_on(
        campaign, make_lead, smtp_server):
    tester, customer = make_lead("tester@acme.test"), make_lead("customer@example.com")
    testers = lists.create_list(None, name="Testers")
    lists.add_members(None, testers, lead_ids=[tester.pk])
    campaign.test_list = testers
    campaign.save()
    for lead in (tester, customer):
        enroll(lead.pk, campaign)

    run_due_enrollments()
    send_due()
    run_due_enrollments()

    held = EmailMessage.objects.get(lead=customer)
    assert (held.status, held.skip_reason) == ("skipped", EmailMessage.Skip.NOT_TEST)
    assert EmailMessage.objects.get(lead=tester).status == "sent"
    assert [m["X-Envelope-To"] for m in smtp_server.messages] == ["tester@acme.test"]
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}


def test_test_mode_without_a_test_list_sends_nobody_anything(campaign, make_lead,
                                                            smtp_server):
    lead = make_lead("customer@example.com")
    enroll(lead.pk, campaign)

    run_due_enrollments()
    send_due()

    assert EmailMessage.objects.get(lead=lead).skip_reason == EmailMessage.Skip.NOT_TEST
    assert smtp_server.messages == []


def test_out_of_test_mode_the_campaign_sends_to_everyone(campaign, make_lead, smtp_server):
    Campaign.objects.filter(pk=campaign.pk).update(test_mode=False)
    lead = make_lead("customer@example.com")
    enroll(lead.pk, campaign)

    run_due_enrollments()
    send_due()

    assert EmailMessage.objects.get(lead=lead).status == "sent"
