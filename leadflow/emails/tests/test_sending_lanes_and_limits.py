"""How the outbox sends: transactional mail ahead of marketing, rate limits per domain,
each message's own VERP return path, the sender identity in From and Reply-To."""

from datetime import UTC, datetime, timedelta

import pytest

from leadflow.core import clock
from leadflow.emails import verp
from leadflow.emails.models import EmailMessage, EmailTemplate, SenderIdentity, SendWindow
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.MARKETING_BASIS = "legitimate_interest"  # about sending, not the legal basis
    with clock.travel(T0):
        yield


@pytest.fixture
def news(db):
    return EmailTemplate.objects.create(name="News", subject="News", body_text="Hello.")


@pytest.fixture
def confirm(db):
    return EmailTemplate.objects.create(name="Confirm", subject="Confirm", body_text="Click.",
                                        marketing=False)


def test_a_transactional_email_goes_before_a_marketing_burst_queued_earlier(
        settings, smtp_server, make_lead, news, confirm):
    settings.EMAIL_BATCH = 5
    for i in range(12):
        send_template(make_lead(f"m{i}@example.com"), news, dedupe_key=f"n:{i}")
    send_template(make_lead("ana@example.com"), confirm, dedupe_key="confirm:ana")

    assert send_due() == 13

    order = [m["X-Envelope-To"] for m in smtp_server.messages]
    assert order[0] == "ana@example.com"
    assert EmailMessage.objects.filter(status="sent").count() == 13


def test_a_recipient_domain_over_its_rate_waits_for_the_next_window_without_an_attempt(
        settings, smtp_server, make_lead, news):
    settings.RECIPIENT_RATE_LIMITS = {"gmail.com": (2, 1)}  # 2 messages a second
    for i in range(5):
        send_template(make_lead(f"g{i}@gmail.com"), news, dedupe_key=f"g:{i}")
    send_template(make_lead("ana@example.com"), news, dedupe_key="other")

    send_due()

    assert len(smtp_server.to("ana@example.com")) == 1  # other domains are not held back
    assert len(smtp_server.to("@gmail.com")) == 2
    waiting = EmailMessage.objects.filter(status="queued")
    assert waiting.count() == 3
    assert {(m.attempts, m.due_at) for m in waiting} == {(0, T0 + timedelta(seconds=1))}

    clock.advance(timedelta(seconds=1))
    send_due()
    assert len(smtp_server.to("@gmail.com")) == 4  # two more in the next second
    clock.advance(timedelta(seconds=1))
    send_due()
    assert len(smtp_server.to("@gmail.com")) == 5
    assert SendWindow.objects.filter(key="to:gmail.com").count() == 3


def test_a_sending_domain_rate_is_shared_by_all_its_messages(
        settings, smtp_server, make_lead, news):
    settings.SENDING_RATE_LIMITS = {"*": (3, 60)}  # 3 a minute from any sending domain
    for i in range(4):
        send_template(make_lead(f"p{i}@example.org"), news, dedupe_key=f"p:{i}")

    send_due()

    assert len(smtp_server.messages) == 3
    assert EmailMessage.objects.get(status="queued").due_at == T0 + timedelta(minutes=1)


def test_each_message_has_its_own_return_path_naming_it(smtp_server, make_lead, news):
    messages = [send_template(make_lead(f"v{i}@example.com"), news, dedupe_key=f"v:{i}")
                for i in range(2)]

    send_due()

    for message in messages:
        received = smtp_server.to(message.to_email)[0]
        assert verp.message_of(received["X-Envelope-From"]) == message.pk
        assert received["Message-ID"] == message.message_id
    forged = received["X-Envelope-From"].replace("-", "-0", 1)
    assert verp.message_of(forged) is None


def test_the_sender_identity_gives_from_and_reply_to(smtp_server, make_lead, news):
    SenderIdentity.objects.create(name="Sales", from_name="Ana, from Leadflow",
                                  from_email="ana@send.example", reply_to="sales@example.com",
                                  is_default=True)

    send_template(make_lead("bob@example.com"), news, dedupe_key="s:1")
    send_due()

    received = smtp_server.messages[0]
    assert received["From"] == '"Ana, from Leadflow" <ana@send.example>'
    assert received["Reply-To"] == "sales@example.com"
    assert received["X-Envelope-From"].endswith("@send.example")
