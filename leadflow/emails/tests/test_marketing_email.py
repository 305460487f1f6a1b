"""Marketing email through a real SMTP server: headers, rendering, dedupe, opt-out."""

import re
from email.header import decode_header, make_header

import pytest

from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

BASE_URL = "https://leads.example.com"


@pytest.fixture(autouse=True)
def _public_https_address(settings):
    settings.BASE_URL = BASE_URL


@pytest.fixture
def welcome(db):
    return EmailTemplate.objects.create(
        name="Welcome", subject="Welcome {{ lead.first_name }}!",
        body_text="Hello {{ lead.first_name }}, thanks for signing up.",
        body_html="<p>Hello {{ lead.first_name }}, thanks for signing up.</p>")


def header(msg, name: str) -> str:
    """A header as a person reads it: decoded (RFC 2047) and unfolded."""
    return " ".join(str(make_header(decode_header(msg[name]))).split())


def part(msg, content_type: str) -> str:
    for p in msg.walk():
        if p.get_content_type() == content_type:
            return p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part")


def queue_and_send(lead, template, **kw) -> EmailMessage:
    """Queue the message, then let the outbox send it, as a worker would."""
    message = send_template(lead, template, **kw)
    send_due()
    message.refresh_from_db()
    return message


def test_send_template_delivers_through_smtp_with_one_click_unsubscribe(
        smtp_server, make_lead, welcome):
    lead = make_lead("mickael@example.com", first_name="Mickaël")

    message = queue_and_send(lead, welcome, dedupe_key="welcome:1")

    assert message.status == EmailMessage.Status.SENT and message.sent_at is not None
    [msg] = smtp_server.to("mickael@example.com")
    # Raw, as a mail provider reads it: one angle-bracketed https URL, not RFC 2047 encoded
    # words (which Python's folding produces for a long URL unless told otherwise).
    assert re.fullmatch(rf"<{re.escape(BASE_URL)}/u/[^\s>]+>", msg["List-Unsubscribe"])
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header(msg, "Message-ID") == message.message_id
    assert header(msg, "Subject") == "Welcome Mickaël!" == message.subject
    sent = lead.events.get(type="email_sent")
    assert sent.properties["message_id"] == message.pk


def test_bodies_are_rendered_for_the_lead_with_the_unsubscribe_link(smtp_server, make_lead,
                                                                    welcome):
    lead = make_lead("mickael@example.com", first_name="Mickaël")
    queue_and_send(lead, welcome, dedupe_key="welcome:1")

    [msg] = smtp_server.messages
    unsubscribe = msg["List-Unsubscribe"].strip("<>")
    text, html = part(msg, "text/plain"), part(msg, "text/html")
    assert "Hello Mickaël, thanks for signing up." in text
    assert unsubscribe in text
    assert "<p>Hello Mickaël, thanks for signing up.</p>" in html
    assert f'href="{unsubscribe}"' in html
    assert re.search(rf'<img src="{re.escape(BASE_URL)}/e/o/[^"]+\.gif"', html)


def test_the_html_body_escapes_what_the_lead_typed(smtp_server, make_lead, welcome):
    lead = make_lead("x@example.com", first_name="<script>alert(1)</script>",
                     last_name="O'Brien")
    welcome.subject = "Welcome {{ lead.first_name }} {{ lead.last_name }}"
    welcome.body_text = "Dear {{ lead.last_name }}"
    welcome.save()

    queue_and_send(lead, welcome, dedupe_key="welcome:1")

    [msg] = smtp_server.messages
    html = part(msg, "text/html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Plain-text parts are not HTML: nothing to escape there.
    assert header(msg, "Subject") == "Welcome <script>alert(1)</script> O'Brien"
    assert "Dear O'Brien" in part(msg, "text/plain")


def test_a_name_with_a_line_break_cannot_inject_a_header(smtp_server, make_lead, welcome):
    lead = make_lead("x@example.com", first_name="Eve\r\nBcc: victim@example.com")

    message = queue_and_send(lead, welcome, dedupe_key="welcome:1")

    assert message.status == EmailMessage.Status.SENT
    [msg] = smtp_server.messages
    assert msg["Bcc"] is None
    assert msg["X-Envelope-To"] == "x@example.com"
    assert header(msg, "Subject") == "Welcome Eve Bcc: victim@example.com!"


def test_the_same_dedupe_key_never_sends_twice(smtp_server, make_lead, welcome):
    lead = make_lead("mickael@example.com")

    first = queue_and_send(lead, welcome, dedupe_key="welcome:1")
    again = queue_and_send(lead, welcome, dedupe_key="welcome:1")

    assert again.pk == first.pk
    assert len(smtp_server.messages) == 1
    assert EmailMessage.objects.count() == 1
    assert lead.events.filter(type="email_sent").count() == 1


def test_a_do_not_email_lead_is_skipped_and_nothing_reaches_smtp(smtp_server, make_lead,
                                                                 welcome):
    lead = make_lead("optout@example.com", do_not_email=True)

    message = queue_and_send(lead, welcome, dedupe_key="welcome:1")

    assert message.status == EmailMessage.Status.SKIPPED
    assert message.error == "do not email"
    assert smtp_server.messages == []
    assert not lead.events.filter(type="email_sent").exists()


def test_a_lead_without_an_address_is_skipped(smtp_server, make_lead, welcome):
    from leadflow.leads.services import upsert_lead

    lead, _ = upsert_lead({"external_id": "crm-7", "first_name": "Anon"})
    message = queue_and_send(lead, welcome, dedupe_key="welcome:1")
    assert (message.status, message.error) == (EmailMessage.Status.SKIPPED, "no email address")
    assert smtp_server.messages == []


def test_transactional_email_reaches_an_opted_out_lead_without_unsubscribe_headers(
        smtp_server, make_lead):
    confirm = EmailTemplate.objects.create(name="Confirm", subject="Confirm your address",
                                           body_text="Click to confirm.", marketing=False)
    lead = make_lead("optout@example.com", do_not_email=True)

    message = queue_and_send(lead, confirm, dedupe_key="confirm:1")

    assert message.status == EmailMessage.Status.SENT
    [msg] = smtp_server.messages
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None
    assert "Unsubscribe" not in part(msg, "text/plain")
