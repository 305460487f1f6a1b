"""One-click unsubscribe (RFC 8058): a POST to the link unsubscribes at once."""

import json

import pytest
from django.core import signing
from django.test import Client

from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template, unsubscribe_url
from leadflow.leads.models import Consent, Lead
from leadflow.leads.services import record_consent

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture(autouse=True)
def _public_https_address(settings):
    settings.BASE_URL = "https://leads.example.com"


@pytest.fixture
def lead(make_lead, score_rules):
    lead = make_lead("mickael@example.com", first_name="Mickaël")
    record_consent(lead, granted=True, method="form:newsletter", text="Send me news",
                   text_version="v1")
    return lead


@pytest.fixture
def provider():
    """A mail provider's one-click POST: no cookies, no session, no CSRF token."""
    return Client(enforce_csrf_checks=True)


def _path(url: str) -> str:
    return url.removeprefix("https://leads.example.com")


def _one_click(client, url: str):
    return client.post(_path(url), ONE_CLICK, content_type="application/x-www-form-urlencoded")


def test_one_click_post_from_the_email_header_unsubscribes_at_once(smtp_server, lead,
                                                                   provider):
    template = EmailTemplate.objects.create(name="News", subject="News",
                                            body_text="Hello")
    send_template(lead, template, dedupe_key="news:1", campaign_id=None)
    send_due()  # as a worker does
    url = smtp_server.messages[0]["List-Unsubscribe"].strip("<>")

    r = _one_click(provider, url)

    assert r.status_code == 200
    assert not r.cookies
    lead.refresh_from_db()
    assert lead.do_not_email is True
    assert lead.marketing_consent is False
    withdrawal = lead.consents.get(action=Consent.Action.WITHDRAWN)
    assert (withdrawal.method, withdrawal.ip) == ("unsubscribe link", "127.0.0.1")
    assert lead.events.filter(type="unsubscribed").count() == 1
    assert lead.score == -5


def test_the_link_names_the_list_the_lead_left(lead, provider):
    _one_click(provider, unsubscribe_url(lead, campaign_id=42))
    assert lead.events.get(type="unsubscribed").properties == {"campaign_id": 42}


def test_posting_twice_unsubscribes_once(lead, provider):
    url = unsubscribe_url(lead, None)
    assert _one_click(provider, url).status_code == 200
    assert _one_click(provider, url).status_code == 200

    lead.refresh_from_db()
    assert lead.score == -5
    assert lead.events.filter(type="unsubscribed").count() == 1
    assert lead.consents.filter(action=Consent.Action.WITHDRAWN).count() == 1


def test_get_only_shows_a_confirmation_page_and_changes_nothing(lead, provider):
    r = provider.get(_path(unsubscribe_url(lead, None)))

    assert r.status_code == 200
    html = r.content.decode()
    assert '<form method="post"' in html and "List-Unsubscribe" in html
    lead.refresh_from_db()
    assert (lead.do_not_email, lead.marketing_consent, lead.score) == (False, True, 0)
    assert not lead.events.filter(type="unsubscribed").exists()


def test_the_confirmation_page_button_unsubscribes(lead, provider):
    # The page's own form posts List-Unsubscribe=One-Click as a form field.
    r = provider.post(_path(unsubscribe_url(lead, None)), {"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    lead.refresh_from_db()
    assert lead.do_not_email is True


def _another_lead(token: str, lead_id: int) -> str:
    """The same signature on a payload naming another lead."""
    payload = signing.b64_encode(json.dumps([lead_id + 1, 0], separators=(",", ":")).encode())
    return payload.decode() + token[token.index(":"):]


@pytest.mark.parametrize("tamper", [
    lambda token, _: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),  # signature
    _another_lead,
    lambda token, _: "nonsense",
])
def test_a_tampered_token_gives_404_and_changes_nothing(lead, provider, tamper):
    url = unsubscribe_url(lead, None)
    base, token = url.rsplit("/", 1)
    bad = f"{base}/{tamper(token, lead.pk)}"
    assert bad != url

    assert _one_click(provider, bad).status_code == 404
    assert provider.get(_path(bad)).status_code == 404

    lead.refresh_from_db()
    assert (lead.do_not_email, lead.marketing_consent, lead.score) == (False, True, 0)
    assert not lead.events.filter(type="unsubscribed").exists()
    assert not lead.consents.filter(action=Consent.Action.WITHDRAWN).exists()


def test_a_link_for_a_deleted_lead_gives_404(lead, provider):
    url = unsubscribe_url(lead, None)
    Lead.objects.filter(pk=lead.pk).delete()
    assert _one_click(provider, url).status_code == 404


def test_an_unsubscribed_lead_gets_no_more_marketing_email(smtp_server, lead, provider):
    template = EmailTemplate.objects.create(name="News", subject="News", body_text="Hello")
    _one_click(provider, unsubscribe_url(lead, None))
    lead.refresh_from_db()

    message = send_template(lead, template, dedupe_key="news:2")

    assert message.status == EmailMessage.Status.SKIPPED
    assert smtp_server.messages == []
