"""Tracked links in marketing email: rewritten, recorded once, redirected to the stored URL
(never one from the request), and identifying the visitor on a tracked site."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from leadflow.core import clock
from leadflow.emails.models import EmailLink, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template
from leadflow.emails.tokens import click_token
from leadflow.tracking.models import Visitor
from leadflow.tracking.tests.conftest import BROWSER_UA, VID, page_view

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

BASE = "https://leads.example.com"


@pytest.fixture
def sent(smtp_server, make_lead, settings, site):
    """A marketing email with two links delivered; its tracked hrefs (as paths)."""
    settings.BASE_URL = BASE
    lead = make_lead("mickael@example.com")
    template = EmailTemplate.objects.create(
        name="News", subject="News", body_text="Hi",
        body_html='<p><a href="https://shop.example.com/offer?a=1&amp;b=2">Offer</a> '
                  '<a href="https://partner.org/page">Partner</a> '
                  '<a href="mailto:help@example.com">Mail us</a></p>')
    message = send_template(lead, template, dedupe_key="news:1")
    send_due()  # as a worker does
    clock.advance(timedelta(minutes=5))  # a click seconds after sending is a scanner's
    [msg] = smtp_server.messages
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    hrefs = re.findall(r'href="([^"]+)"', html.get_payload(decode=True).decode())
    return lead, message, hrefs


def reader() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER_UA)


def _path(href: str) -> str:
    return href.replace("&amp;", "&").removeprefix(BASE)


def test_links_in_the_html_body_are_rewritten_to_tracked_ones(sent):
    _, message, hrefs = sent
    tracked = [h for h in hrefs if h.startswith(f"{BASE}/e/c/")]
    assert len(tracked) == 2
    assert "mailto:help@example.com" in hrefs
    assert not any("shop.example.com" in h or "partner.org" in h for h in hrefs)
    assert list(EmailLink.objects.filter(message=message).order_by("index")
                .values_list("url", flat=True)) == [
        "https://shop.example.com/offer?a=1&b=2", "https://partner.org/page"]


def test_a_click_records_email_clicked_once_and_redirects_to_the_stored_url(sent):
    lead, message, hrefs = sent
    first = reader().get(_path(hrefs[0]))
    reader().get(_path(hrefs[0]))

    assert first.status_code == 302
    target = urlsplit(first["Location"])
    assert (target.netloc, target.path) == ("shop.example.com", "/offer")
    assert parse_qs(target.query)["a"] == ["1"] and parse_qs(target.query)["b"] == ["2"]
    clicks = lead.events.filter(type="email_clicked")
    assert clicks.count() == 1
    assert clicks.get().properties["url"] == "https://shop.example.com/offer?a=1&b=2"
    message.refresh_from_db()
    assert message.clicked_at is not None


def test_each_link_counts_its_own_click(sent):
    lead, _, hrefs = sent
    Client().get(_path(hrefs[0]))
    Client().get(_path(hrefs[1]))
    assert lead.events.filter(type="email_clicked").count() == 2


def test_a_tampered_token_is_a_404(sent):
    _, message, hrefs = sent
    path = _path(hrefs[0])
    assert Client().get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 404
    assert Client().get("/e/c/garbage").status_code == 404
    # A validly signed token for a link that does not exist is no way out either.
    assert Client().get(f"/e/c/{click_token(message.pk, 7)}").status_code == 404


def test_no_url_from_the_request_is_ever_followed(sent):
    _, _, hrefs = sent
    r = Client().get(_path(hrefs[1]) + "?next=https://evil.example.net/&url=https://evil.example.net/")
    assert r.status_code == 302
    assert r["Location"] == "https://partner.org/page"


def test_a_third_party_destination_gets_no_identity_token(sent):
    _, _, hrefs = sent
    assert "lf_id" not in Client().get(_path(hrefs[1]))["Location"]


def test_the_lf_id_of_a_click_identifies_the_visitor_on_the_tracked_site(sent, beacon):
    lead, _, hrefs = sent
    beacon([page_view("https://shop.example.com/earlier")])
    location = reader().get(_path(hrefs[0]))["Location"]
    token = parse_qs(urlsplit(location).query)["lf_id"][0]

    r = beacon([{"type": "lf_id", "props": {"token": token}}])

    assert r.json()["identified"] is True
    assert Visitor.objects.get(visitor_id=VID).lead == lead
    assert lead.events.filter(type="page_view").count() == 1


def test_a_forged_lf_id_identifies_no_one(beacon, make_lead):
    make_lead("ana@example.com")
    r = beacon([{"type": "lf_id", "props": {"token": "1:forged:sig"}}])
    assert r.json()["rejected"] == 1
    assert Visitor.objects.get(visitor_id=VID).lead is None
