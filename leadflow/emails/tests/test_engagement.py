"""Engagement you can believe: each email open and click is a person's or a machine's
(privacy proxies, link scanners), stored on the event, shown on the timeline; a machine's
sets no opened_at / clicked_at, identifies no visitor, moves no last touch, enters no
campaign, and a scoring rule or `engaged_leads` asking for a person ignores it."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import clock
from leadflow.emails import engagement
from leadflow.emails.models import EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template, unsubscribe_url
from leadflow.leads.models import Lead
from leadflow.scoring.models import Category, ScoreRule
from leadflow.tracking import events as registry
from leadflow.tracking.models import Event, Visitor
from leadflow.tracking.tests.conftest import (  # noqa: F401 (fixtures)
    BROWSER_UA,
    VID,
    beacon,
    page_view,
    site,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

BASE = "https://leads.example.com"
PERSON_IP = "203.0.113.7"  # TEST-NET-3: nobody's proxy
APPLE_MPP = {"REMOTE_ADDR": "17.58.63.10", "HTTP_USER_AGENT": "Mozilla/5.0"}
GMAIL_PROXY = {"REMOTE_ADDR": "66.102.8.3", "HTTP_USER_AGENT": (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
    "GoogleImageProxy)")}
# Scanners present a browser's user agent: their address and timing give them away.
MIMECAST = {"REMOTE_ADDR": "205.139.110.61", "HTTP_USER_AGENT": BROWSER_UA}
SAFE_LINKS = {"REMOTE_ADDR": "40.107.22.54", "HTTP_USER_AGENT": BROWSER_UA}


def person() -> Client:
    return Client(REMOTE_ADDR=PERSON_IP, HTTP_USER_AGENT=BROWSER_UA)


@pytest.fixture
def rules(db):
    """Scoring that counts a person's opens (+10) and clicks (+7) only."""
    human = [{"field": "engagement", "op": "equals", "value": "human"}]
    ScoreRule.objects.bulk_create([
        ScoreRule(name="Opened (person)", event_type="email_opened", points=10,
                  category=Category.ENGAGEMENT, conditions=human, max_times=1),
        ScoreRule(name="Clicked (person)", event_type="email_clicked", points=7,
                  category=Category.ENGAGEMENT, conditions=human)])


@pytest.fixture
def sent(smtp_server, make_lead, settings, site, rules):  # noqa: F811
    """A marketing email with two links to the tracked shop, delivered at a frozen time:
    (lead, message, [link paths], pixel path)."""
    settings.BASE_URL = BASE
    lead = make_lead("mickael@example.com")
    template = EmailTemplate.objects.create(
        name="News", subject="News", body_text="Hi",
        body_html='<p><a href="https://shop.example.com/offer">Offer</a> '
                  '<a href="https://shop.example.com/news">News</a></p>')
    with clock.travel():
        message = send_template(lead, template, dedupe_key="news:1")
        send_due()  # as a worker does
        [email] = smtp_server.messages
        html = next(p for p in email.walk() if p.get_content_type() == "text/html")
        body = html.get_payload(decode=True).decode()
        links = [h.removeprefix(BASE) for h in re.findall(rf'href="({BASE}/e/c/[^"]+)"', body)]
        pixel = re.search(r'<img src="([^"]+)"', body)[1].removeprefix(BASE)
        message.refresh_from_db()
        yield lead, message, links, pixel


def _opens(lead):
    return list(lead.events.filter(type="email_opened").order_by("id"))


def _clicks(lead):
    return list(lead.events.filter(type="email_clicked").order_by("id"))


def _title(event: Event) -> str:
    return registry.describe(event.type, event.properties).title


def test_an_apple_privacy_proxy_open_is_a_machines_and_a_later_open_still_counts(sent):
    lead, message, _, pixel = sent
    clock.advance(timedelta(seconds=30))
    Client(**APPLE_MPP).get(pixel)
    Client(**APPLE_MPP).get(pixel)  # the proxy again: still one machine open

    [machine] = _opens(lead)
    assert machine.properties["engagement"] == "machine"
    assert machine.properties["machine_reason"] == "proxy"
    assert _title(machine) == "Opened an email (machine: Apple Mail Privacy Protection)"
    message.refresh_from_db()
    lead.refresh_from_db()
    assert message.opened_at is None and lead.score == 0

    clock.advance(timedelta(hours=2))
    person().get(pixel)

    machine, human = _opens(lead)
    assert human.properties["engagement"] == "human"
    assert _title(human) == "Opened an email"
    message.refresh_from_db()
    lead.refresh_from_db()
    assert message.opened_at == clock.now() and lead.score == 10


def test_apples_address_alone_or_its_bare_user_agent_alone_is_a_machines_open(sent):
    lead, _, _, pixel = sent
    Client(REMOTE_ADDR="17.1.2.3", HTTP_USER_AGENT=BROWSER_UA).get(pixel)
    Client(REMOTE_ADDR=PERSON_IP, HTTP_USER_AGENT="Mozilla/5.0").get(pixel)
    assert [e.properties.get("machine_by") for e in _opens(lead)] == [
        "Apple Mail Privacy Protection"]  # the second is the same class: not recorded twice


def test_a_gmail_image_proxy_open_is_a_machines(sent):
    lead, message, _, pixel = sent
    r = Client(**GMAIL_PROXY).get(pixel)

    assert r.content.startswith(b"GIF89a")
    [opened] = _opens(lead)
    assert (opened.properties["engagement"], opened.properties["machine_by"]) == (
        "machine", "Gmail image proxy")
    message.refresh_from_db()
    assert message.opened_at is None


def test_an_outlook_desktop_open_is_a_persons_though_crawlerdetect_lists_it(sent):
    lead, _, _, pixel = sent
    outlook = ("Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; "
               "Microsoft Outlook 16.0.5161; ms-office; MSOffice 16)")
    Client(REMOTE_ADDR=PERSON_IP, HTTP_USER_AGENT=outlook).get(pixel)
    assert [e.properties["engagement"] for e in _opens(lead)] == ["human"]


def test_a_scanner_click_a_second_after_sending_identifies_no_one_nor_counts(sent, beacon):  # noqa: F811
    lead, message, links, _ = sent
    beacon([page_view("https://shop.example.com/earlier")])
    lead.refresh_from_db()
    touched = lead.last_touch_at
    clock.advance(timedelta(seconds=1))

    r = Client(**MIMECAST).get(links[0])

    assert r.status_code == 302 and r["Location"] == "https://shop.example.com/offer"
    [click] = _clicks(lead)
    assert (click.properties["engagement"], click.properties["machine_by"]) == (
        "machine", "Mimecast")
    assert _title(click) == "Clicked a link in an email (machine: Mimecast)"
    message.refresh_from_db()
    lead.refresh_from_db()
    assert message.clicked_at is None
    assert lead.score == 0 and lead.last_touch_at == touched
    assert Visitor.objects.get(visitor_id=VID).lead is None


def test_any_click_within_seconds_of_sending_is_a_scanners(sent):
    lead, _, links, _ = sent
    clock.advance(timedelta(seconds=1))
    r = Client(**SAFE_LINKS).get(links[0])
    clock.advance(timedelta(seconds=1))
    person().get(links[1])  # a browser's address and agent, but two seconds after sending

    assert "lf_id" not in r["Location"]
    assert [(c.properties["engagement"], c.properties["machine_reason"])
            for c in _clicks(lead)] == [("machine", "scanner"), ("machine", "too_soon")]
    assert _title(_clicks(lead)[1]) == (
        "Clicked a link in an email (machine: clicked seconds after sending)")


def test_all_links_clicked_at_once_is_a_machine(sent):
    lead, message, links, _ = sent
    clock.advance(timedelta(minutes=10))
    first = person().get(links[0])
    clock.advance(timedelta(seconds=1))
    second = person().get(links[1])

    assert "lf_id" in first["Location"] and "lf_id" not in second["Location"]
    assert [c.properties.get("machine_reason") for c in _clicks(lead)] == [None, "all_links"]


def test_a_later_human_click_is_a_persons_counted_and_identifies_the_visitor(sent, beacon):  # noqa: F811
    lead, message, links, _ = sent
    beacon([page_view("https://shop.example.com/earlier")])
    clock.advance(timedelta(seconds=1))
    Client(**MIMECAST).get(links[0])
    clock.advance(timedelta(hours=2))

    r = person().get(links[0])

    machine, human = _clicks(lead)
    assert human.properties["engagement"] == "human" and "machine_reason" not in human.properties
    message.refresh_from_db()
    lead.refresh_from_db()
    assert message.clicked_at == clock.now()
    assert lead.score == 7 and lead.last_touch_at == clock.now()
    token = parse_qs(urlsplit(r["Location"]).query)["lf_id"][0]
    assert beacon([{"type": "lf_id", "props": {"token": token}}]).json()["identified"] is True
    assert Visitor.objects.get(visitor_id=VID).lead == lead


def test_a_head_request_is_a_machines_click_and_open(sent):
    lead, message, links, pixel = sent
    clock.advance(timedelta(hours=1))

    r = person().head(links[0])
    person().head(pixel)

    assert r.status_code == 302 and "lf_id" not in r["Location"]
    assert [c.properties["machine_reason"] for c in _clicks(lead) + _opens(lead)] == [
        "head_request", "head_request"]
    message.refresh_from_db()
    assert message.clicked_at is None and message.opened_at is None


def test_a_request_without_a_user_agent_or_from_a_listed_network_is_a_machines(sent, settings):
    lead, _, links, pixel = sent
    settings.LEADFLOW_MACHINE_NETWORKS = [ipaddress.ip_network("198.51.100.0/24")]
    clock.advance(timedelta(hours=1))
    Client(REMOTE_ADDR=PERSON_IP).get(pixel)
    Client(REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT=BROWSER_UA).get(links[0])
    Client(REMOTE_ADDR=PERSON_IP, HTTP_USER_AGENT="python-requests/2.32").get(links[1])

    assert [e.properties["machine_reason"] for e in _opens(lead) + _clicks(lead)] == [
        "no_user_agent", "listed_network", "bot"]


def test_the_address_behind_a_trusted_proxy_is_the_one_classified(sent, settings):
    lead, _, _, pixel = sent
    settings.LEADFLOW_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="17.58.63.10",
           HTTP_USER_AGENT=BROWSER_UA).get(pixel)
    assert _opens(lead)[0].properties["machine_by"] == "Apple Mail Privacy Protection"


def test_a_scoring_rule_asking_for_human_engagement_ignores_machine_events(sent):
    lead, _, links, pixel = sent
    clock.advance(timedelta(seconds=1))
    Client(**SAFE_LINKS).get(links[0])
    Client(**APPLE_MPP).get(pixel)
    lead.refresh_from_db()
    assert lead.score == 0

    clock.advance(timedelta(hours=1))
    person().get(pixel)
    person().get(links[1])
    lead.refresh_from_db()
    assert lead.score == 17

    from leadflow.scoring.rescore import rescore

    rescore(lead_ids=[lead.pk])  # the SQL path agrees with the incremental one
    lead.refresh_from_db()
    assert lead.score == 17


def test_a_machine_click_neither_enters_nor_ends_a_campaign(sent):
    lead, _, links, _ = sent
    Campaign.objects.create(name="Clicked", entry_event_type="email_clicked")
    clock.advance(timedelta(seconds=1))
    Client(**MIMECAST).get(links[0])
    assert not Enrollment.objects.filter(lead=lead).exists()

    clock.advance(timedelta(hours=1))
    person().get(links[0])
    assert Enrollment.objects.filter(lead=lead).count() == 1


def test_engaged_leads_ignores_machine_engagement_by_default(
        sent, make_lead, django_assert_num_queries):
    lead, message, links, pixel = sent
    other = make_lead("ana@example.com")
    nobody = make_lead("zoe@example.com")
    other_message = send_template(other, EmailTemplate.objects.get(), dedupe_key="news:2")
    send_due()
    Client(**APPLE_MPP).get(pixel)  # mickael: a proxy's open only
    clock.advance(timedelta(hours=1))
    later = clock.now()
    from leadflow.emails.tokens import open_token

    person().get(f"/e/o/{open_token(other_message.pk)}.gif")  # ana: her own open
    ids = [lead.pk, other.pk, nobody.pk]

    with django_assert_num_queries(1):
        assert engagement.engaged_leads(ids, "open") == {other.pk}
    assert engagement.engaged_leads(ids, "open", human_only=False) == {lead.pk, other.pk}
    assert engagement.engaged_leads(ids, "open", human_only=False,
                                    message_ids=[message.pk]) == {lead.pk}
    assert engagement.engaged_leads(ids, "open", human_only=False, since=later) == {other.pk}
    assert engagement.engaged_leads(ids, "open", campaign_id=1) == set()
    assert engagement.engaged_leads(ids, "click") == set()


def test_engaged_leads_reads_a_campaigns_opens(smtp_server, make_lead):
    lead = make_lead("mickael@example.com")
    campaign = Campaign.objects.create(name="Spring", entry_event_type="newsletter_signup")
    template = EmailTemplate.objects.create(name="Spring", subject="S", body_text="Hi",
                                            body_html="<p>Hi</p>")
    message = send_template(lead, template, dedupe_key="spring:1", campaign_id=campaign.pk)
    send_due()
    from leadflow.emails.tokens import open_token

    person().get(f"/e/o/{open_token(message.pk)}.gif")
    assert engagement.engaged_leads([lead.pk], "open", campaign_id=campaign.pk) == {lead.pk}
    assert engagement.engaged_leads([lead.pk], "open", campaign_id=campaign.pk + 1) == set()


def test_get_or_head_on_an_unsubscribe_link_never_unsubscribes(smtp_server, make_lead,
                                                                settings):
    settings.BASE_URL = BASE
    lead = make_lead("mickael@example.com")
    path = unsubscribe_url(lead, None).removeprefix(BASE)

    assert Client(**SAFE_LINKS).get(path).status_code == 200
    Client(**SAFE_LINKS).head(path)
    lead.refresh_from_db()
    assert lead.do_not_email is False
    assert not lead.events.filter(type="unsubscribed").exists()

    Client().post(path, "List-Unsubscribe=One-Click",
                  content_type="application/x-www-form-urlencoded")
    assert Lead.objects.get(pk=lead.pk).do_not_email is True


def test_every_shipped_range_names_its_source_and_parses():
    entries = engagement.shipped_ranges()
    names = {e["name"] for e in entries}
    assert {"Apple Mail Privacy Protection", "Gmail image proxy", "Mimecast",
            "Microsoft Defender / Safe Links", "Proofpoint", "Barracuda"} <= names
    for entry in entries:
        assert entry["source"] and entry["kind"] in ("proxy", "scanner")
        assert set(entry["applies_to"]) <= {"open", "click"} and entry["applies_to"]
        for cidr in entry["ranges"]:
            ipaddress.ip_network(cidr)  # raises on a typo
