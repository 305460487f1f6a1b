"""Every marketing send is checked when it is queued and again when a worker sends it:
consent, do-not-email, the suppression list, topics, frequency caps, erasure. Each skip
is recorded with its reason, on the message and on the lead's timeline, and nothing
reaches the SMTP server."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count

from leadflow.accounts.models import Role
from leadflow.capture.models import OptInRequest
from leadflow.core import clock
from leadflow.emails import suppression
from leadflow.emails.models import (
    EmailMessage,
    EmailTemplate,
    FrequencyCap,
    Suppression,
    Topic,
    TopicOptOut,
)
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template
from leadflow.leads.privacy import erase_lead
from leadflow.leads.services import record_consent

pytestmark = pytest.mark.django_db

Skip = EmailMessage.Skip
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with clock.travel(T0):
        yield


@pytest.fixture
def news(db):
    topic = Topic.objects.create(key="news", name="Product news")
    return EmailTemplate.objects.create(name="News", subject="News for {{ lead.first_name }}",
                                        body_text="Hello.", topic=topic)


@pytest.fixture
def receipt(db):
    return EmailTemplate.objects.create(name="Receipt", subject="Your receipt",
                                        body_text="Thanks.", marketing=False)


@pytest.fixture
def consenting(make_lead):
    def make(email: str, **fields):
        lead = make_lead(email, **fields)
        record_consent(lead, granted=True, method="form")
        lead.refresh_from_db()
        return lead
    return make


def skipped_at_send(message: EmailMessage) -> EmailMessage:
    send_due()
    message.refresh_from_db()
    return message


def assert_skipped(message: EmailMessage, reason: str, smtp_server) -> None:
    assert (message.status, message.skip_reason) == (EmailMessage.Status.SKIPPED, reason)
    assert message.due_at is None
    event = message.lead.events.get(type="email_skipped")
    assert event.properties["reason"] == reason
    assert smtp_server.messages == []


def test_a_lead_who_consented_gets_marketing_email(smtp_server, consenting, news):
    lead = consenting("ana@example.com", first_name="Ana")

    message = skipped_at_send(send_template(lead, news, dedupe_key="n:1"))

    assert message.status == EmailMessage.Status.SENT
    assert smtp_server.to("ana@example.com")[0]["Subject"] == "News for Ana"


def test_without_consent_marketing_is_skipped_unless_the_basis_is_legitimate_interest(
        settings, smtp_server, make_lead, news):
    lead = make_lead("bob@example.com")

    message = send_template(lead, news, dedupe_key="n:1")
    assert (message.status, message.skip_reason) == (EmailMessage.Status.SKIPPED,
                                                     Skip.NO_CONSENT)

    settings.MARKETING_BASIS = "legitimate_interest"
    again = skipped_at_send(send_template(lead, news, dedupe_key="n:2"))
    assert again.status == EmailMessage.Status.SENT


def test_consent_withdrawn_after_queueing_skips_the_send(smtp_server, consenting, news):
    lead = consenting("ana@example.com")
    message = send_template(lead, news, dedupe_key="n:1")
    assert message.status == EmailMessage.Status.QUEUED

    record_consent(lead, granted=False, method="phone call")

    message = skipped_at_send(message)
    assert message.skip_reason in (Skip.NO_CONSENT, Skip.DO_NOT_EMAIL)
    assert_skipped(message, message.skip_reason, smtp_server)


def test_do_not_email_is_honoured_at_send_time(smtp_server, consenting, news):
    lead = consenting("ana@example.com")
    message = send_template(lead, news, dedupe_key="n:1")
    type(lead).objects.filter(pk=lead.pk).update(do_not_email=True)

    assert_skipped(skipped_at_send(message), Skip.DO_NOT_EMAIL, smtp_server)


def test_a_suppressed_address_gets_no_marketing_whatever_the_lead(
        smtp_server, consenting, news):
    lead = consenting("Ana@Example.com")
    message = send_template(lead, news, dedupe_key="n:1")
    suppression.suppress("ana@example.COM", Suppression.Reason.MANUAL)

    assert_skipped(skipped_at_send(message), Skip.SUPPRESSED, smtp_server)


def test_an_unsubscribed_address_still_gets_transactional_mail_but_a_bounced_one_does_not(
        smtp_server, make_lead, receipt):
    ana, bob = make_lead("ana@example.com"), make_lead("bob@example.com")
    suppression.suppress("ana@example.com", Suppression.Reason.UNSUBSCRIBED)
    suppression.suppress("bob@example.com", Suppression.Reason.HARD_BOUNCE)

    to_ana = skipped_at_send(send_template(ana, receipt, dedupe_key="r:ana"))
    to_bob = EmailMessage.objects.get(pk=send_template(bob, receipt, dedupe_key="r:bob").pk)

    assert to_ana.status == EmailMessage.Status.SENT
    assert (to_bob.status, to_bob.skip_reason) == (EmailMessage.Status.SKIPPED,
                                                   Skip.SUPPRESSED)
    assert [m["X-Envelope-To"] for m in smtp_server.messages] == ["ana@example.com"]


def test_a_lead_who_turned_the_topic_off_does_not_get_it(smtp_server, consenting, news):
    lead = consenting("ana@example.com")
    message = send_template(lead, news, dedupe_key="n:1")
    TopicOptOut.objects.create(lead=lead, topic=news.topic, created_at=clock.now())

    assert_skipped(skipped_at_send(message), Skip.TOPIC, smtp_server)


def test_an_erased_lead_is_never_mailed(smtp_server, consenting, news, make_user):
    lead = consenting("ana@example.com")
    message = send_template(lead, news, dedupe_key="n:1")
    admin = make_user("root", role=Role.ADMIN)

    erase_lead(lead, actor=admin)

    # The erasure deletes the lead's own messages: nothing is left to send.
    assert not EmailMessage.objects.filter(pk=message.pk).exists()
    assert send_due() == 0
    assert smtp_server.messages == []
    assert send_template(type(lead).objects.get(pk=lead.pk), news,
                         dedupe_key="n:2").skip_reason in (Skip.ERASED, Skip.NO_ADDRESS)


def test_a_pending_double_opt_in_holds_marketing_back(smtp_server, consenting, news):
    lead = consenting("ana@example.com")
    OptInRequest.objects.create(lead=lead, requested_at=clock.now())

    message = send_template(lead, news, dedupe_key="n:1")

    assert (message.status, message.skip_reason) == (EmailMessage.Status.SKIPPED,
                                                     Skip.PENDING_OPTIN)


def test_the_frequency_cap_across_marketing_skips_the_one_too_many(
        smtp_server, consenting, news):
    FrequencyCap.objects.create(max_messages=2, period_hours=24)
    lead = consenting("ana@example.com")
    first, second, third = (send_template(lead, news, dedupe_key=f"n:{i}") for i in range(3))

    send_due()

    statuses = [EmailMessage.objects.get(pk=m.pk) for m in (first, second, third)]
    assert [m.status for m in statuses] == ["sent", "sent", "skipped"]
    assert statuses[2].skip_reason == Skip.FREQUENCY_CAP
    assert len(smtp_server.messages) == 2
    clock.advance(timedelta(hours=25))  # the period is over: the next one goes
    assert skipped_at_send(send_template(lead, news, dedupe_key="n:4")).status == "sent"


def test_a_cap_that_waits_sends_when_the_period_lets_it(smtp_server, consenting, news):
    FrequencyCap.objects.create(max_messages=1, period_hours=24,
                                when_reached=FrequencyCap.WhenReached.WAIT)
    lead = consenting("ana@example.com")
    first = skipped_at_send(send_template(lead, news, dedupe_key="n:1"))
    later = skipped_at_send(send_template(lead, news, dedupe_key="n:2"))

    assert (first.status, later.status) == ("sent", "queued")
    assert later.due_at == first.sent_at + timedelta(hours=24)
    assert later.attempts == 0  # waiting is not a failed attempt

    clock.advance(timedelta(hours=24, seconds=1))
    assert skipped_at_send(later).status == "sent"


def test_each_skip_reason_is_counted(smtp_server, consenting, make_lead, news):
    consenting("ana@example.com")
    for i, lead in enumerate([make_lead("no-consent@example.com"),
                              make_lead("quiet@example.com", do_not_email=True)]):
        send_template(lead, news, dedupe_key=f"n:{i}")

    counts = dict(EmailMessage.objects.filter(status="skipped").values_list("skip_reason")
                  .annotate(n=Count("id")))

    assert counts == {Skip.NO_CONSENT: 1, Skip.DO_NOT_EMAIL: 1}
