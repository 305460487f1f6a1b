"""The open pixel: a signed GIF URL in the HTML part records `email_opened` once."""

import re

import pytest
from django.test import Client

from leadflow.emails.models import EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template
from leadflow.emails.tokens import open_token

pytestmark = pytest.mark.django_db

# A reader's mail client (no user agent at all is a machine's: emails.engagement).
READER = {"HTTP_USER_AGENT": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15"
                             " (KHTML, like Gecko)"}


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"


@pytest.fixture
def sent(smtp_server, make_lead, score_rules, settings):
    """A marketing email delivered to a lead, and the pixel path found in its HTML."""
    settings.BASE_URL = "https://leads.example.com"
    lead = make_lead("mickael@example.com")
    template = EmailTemplate.objects.create(name="News", subject="News", body_text="Hi",
                                            body_html="<p>Hi</p>")
    message = send_template(lead, template, dedupe_key="news:1")
    send_due()  # as a worker does
    [msg] = smtp_server.messages
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    src = re.search(r'<img src="([^"]+)"', html.get_payload(decode=True).decode())[1]
    return lead, message, src.removeprefix("https://leads.example.com")


def test_the_pixel_is_a_gif_that_is_not_cached(sent):
    _, _, path = sent
    r = Client().get(path)
    assert r.status_code == 200
    assert r["Content-Type"] == "image/gif"
    assert r.content.startswith(b"GIF89a")
    assert r["Cache-Control"] == "no-store"


def test_fetching_the_pixel_records_email_opened_once(sent):
    lead, message, path = sent
    Client(**READER).get(path)
    Client(**READER).get(path)

    opened = lead.events.filter(type="email_opened")
    assert opened.count() == 1
    assert opened.get().properties["message_id"] == message.pk
    message.refresh_from_db()
    assert message.opened_at is not None
    lead.refresh_from_db()
    assert lead.score == 10


def test_a_forged_pixel_is_still_a_gif_but_records_nothing(sent):
    lead, message, path = sent
    forged = path.replace(open_token(message.pk), open_token(message.pk)[:-3] + "xyz")
    assert forged != path
    for bad in (forged, f"/e/o/{open_token(message.pk + 1000)}.gif"):
        r = Client().get(bad)
        assert r.status_code == 200 and r.content.startswith(b"GIF89a")
    assert not lead.events.filter(type="email_opened").exists()
