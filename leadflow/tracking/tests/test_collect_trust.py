"""Trust on /t/collect: anyone holding the public site key may send events, so a page fills
a known lead's empty fields only, its events count only once the visitor is verified,
Leadflow's own event types are refused, and CORS answers only the site's origins."""

import hashlib
import hmac
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from leadflow.core import clock
from leadflow.emails import outbox
from leadflow.emails.models import EmailTemplate
from leadflow.emails.services import send_template
from leadflow.leads.merge import merge_leads
from leadflow.leads.models import Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageThreshold
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.models import Event, Visitor
from leadflow.tracking.tests.conftest import BROWSER_UA, ORIGIN, VID, page_view

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

SECRET = "s3cret-of-the-shop"


@pytest.fixture
def known(make_lead):
    return make_lead("ana@example.com", first_name="Ana", last_name="Lopez",
                     phone="+33 6 12 34 56 78", company_name="Acme")


@pytest.fixture
def signing_site(site):
    site.identity_secret = SECRET
    site.save()
    return site


@pytest.fixture
def big_points(db):
    """Enough points for one custom event to make a lead MQL."""
    StageThreshold.objects.create(stage=Stage.MQL, min_score=100)
    return ScoreRule.objects.create(name="Pricing", event_type="pricing_read", points=500)


def identity_hash(secret: str, email: str) -> str:
    """What the customer's server computes, as docs/tracking-trust.md tells it."""
    return hmac.new(secret.encode(), email.strip().lower().encode(),
                    hashlib.sha256).hexdigest()


def _identify(email="ana@example.com", **props):
    return {"type": "identify", "props": {"email": email, **props}}


def _custom(key: str) -> dict:
    return {"type": "pricing_read", "key": key, "props": {}}


def test_an_unsigned_identify_fills_empty_fields_and_never_overwrites(beacon, known):
    r = beacon([_identify(first_name="Mallory", phone="+33 1 00 00 00 00",
                          company_name="Evil Corp", title="CEO")])

    assert r.status_code == 200 and r.json()["identified"] is True
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.company_name) == ("Ana", "Lopez", "Acme")
    assert known.phone.replace(" ", "").endswith("612345678")
    assert known.title == "CEO"  # was empty


def test_an_unsigned_identify_leaves_a_known_leads_last_touch_alone(beacon, known):
    long_ago = known.created_at - timedelta(days=2000)
    Lead.objects.filter(pk=known.pk).update(last_touch_at=long_ago,
                                            last_touch={"channel": "api"})
    beacon([_identify(utm_source="spam", utm_campaign="skew")])

    known.refresh_from_db()
    assert (known.last_touch_at, known.last_touch) == (long_ago, {"channel": "api"})


def test_unverified_page_events_of_a_known_lead_score_nothing_and_move_no_stage(
        beacon, known, big_points):
    beacon([_identify()])
    r = beacon([_custom("a"), _custom("b"), page_view()])

    assert r.json()["accepted"] == 3
    known.refresh_from_db()
    assert (known.score, known.stage) == (0, Stage.LEAD)
    stored = Event.objects.filter(visitor_id=VID, type="pricing_read")
    assert stored.count() == 2 and not stored.filter(lead__isnull=False).exists()
    visitor = Visitor.objects.get(visitor_id=VID)
    assert (visitor.lead, visitor.claimed_lead) == (None, known)


def test_a_signed_identify_is_trusted_overwrites_and_its_events_count(
        beacon, known, signing_site, big_points):
    beacon([_custom("before")])
    r = beacon([_identify(first_name="Anna",
                          user_hash=identity_hash(SECRET, " Ana@Example.com "))])

    assert r.json()["identified"] is True
    beacon([_custom("after")])
    known.refresh_from_db()
    assert known.first_name == "Anna"
    assert known.events.filter(type="pricing_read").count() == 2
    assert (known.score, known.stage) == (1000, Stage.MQL)


def test_a_wrong_signature_is_rejected_and_changes_nothing(beacon, known, signing_site):
    r = beacon([_identify(first_name="Mallory", user_hash=identity_hash("guess", "ana@x"))])

    body = r.json()
    assert (body["rejected"], body["identified"]) == (1, False)
    assert "user_hash" in body["errors"][0]["message"]
    known.refresh_from_db()
    assert known.first_name == "Ana"
    assert Visitor.objects.get(visitor_id=VID).claimed_lead is None


def test_a_tracked_email_click_verifies_the_visitor_and_its_events_then_count(
        beacon, known, big_points, smtp_server, settings):
    beacon([_identify(), _custom("claimed")])
    known.refresh_from_db()
    assert known.score == 0
    settings.BASE_URL = "https://leads.example.com"
    template = EmailTemplate.objects.create(
        name="News", subject="News", body_text="Hi",
        body_html='<p><a href="https://shop.example.com/offer">Offer</a></p>')
    send_template(known, template, dedupe_key="news:1")
    outbox.send_due()  # as a worker does
    clock.advance(timedelta(minutes=5))  # a click seconds after sending is a scanner's
    html = next(p for p in smtp_server.messages[0].walk()
                if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    path = re.search(r'href="https://leads.example.com(/e/c/[^"]+)"', html).group(1)
    reader = Client(HTTP_USER_AGENT=BROWSER_UA)
    token = parse_qs(urlsplit(reader.get(path)["Location"]).query)["lf_id"][0]

    beacon([{"type": "lf_id", "props": {"token": token}}])
    beacon([_custom("verified")])

    known.refresh_from_db()
    assert known.events.filter(type="pricing_read").count() == 2
    assert known.score == 1000
    assert Visitor.objects.get(visitor_id=VID).lead == known


def test_an_identify_that_creates_the_lead_links_the_visitor_at_once(beacon, big_points):
    beacon([_custom("first"), _identify("new@example.com")])

    lead = Lead.objects.get(email="new@example.com")
    assert lead.events.filter(type="pricing_read").count() == 1
    assert lead.score == 500


@pytest.mark.parametrize("forged", ["merged", "merge_undone", "consent_withdrawn",
                                    "optin_confirmed", "lead_created", "assigned",
                                    "stage_changed", "won", "form_submitted"])
def test_leadflow_event_types_are_refused_from_a_page(beacon, forged):
    r = beacon([{"type": forged, "key": "f", "props": {}}, page_view()])

    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert not Event.objects.filter(type=forged).exists()


def test_a_forged_merge_from_a_page_shows_no_undo_button(beacon, make_lead, admin_user):
    keep, other = make_lead("keep@example.com"), make_lead("other@example.com")
    audit = merge_leads(keep, other, actor=admin_user)
    beacon([_identify("mallory@example.com")])
    mallory = Lead.objects.get(email="mallory@example.com")

    beacon([{"type": "merged", "key": "m", "props": {"merge_id": audit.pk,
                                                     "merged_lead_id": 999}}])

    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/leads/{mallory.pk}/").content.decode()
    assert f"/merges/{audit.pk}/undo" not in page and "Undo this merge?" not in page


def test_an_error_reply_grants_cors_only_to_the_sites_own_origin(beacon, site):
    evil = Client().post("/t/collect", '{"site": "lf_shopkey", "vid": "x"}',
                         content_type="text/plain", headers={"Origin": "https://evil.test"})
    assert evil.status_code == 403
    assert "Access-Control-Allow-Origin" not in evil

    malformed = Client().post("/t/collect", "{not json", content_type="text/plain",
                              headers={"Origin": "https://evil.test"})
    assert malformed.status_code == 422
    assert "Access-Control-Allow-Origin" not in malformed
    assert "Access-Control-Allow-Credentials" not in malformed

    own = beacon([], vid="bad id")
    assert own.status_code == 422
    assert own["Access-Control-Allow-Origin"] == ORIGIN


def test_a_preflight_is_granted_only_to_a_known_sites_origin(site):
    def preflight(origin):
        return Client().options("/t/collect", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})

    assert preflight(ORIGIN)["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Origin" not in preflight("https://evil.test")


def test_a_merge_event_stored_from_outside_earlier_offers_no_undo(make_lead, admin_user):
    from leadflow.tracking.services import record_event

    keep, other = make_lead("keep@example.com"), make_lead("other@example.com")
    audit = merge_leads(keep, other, actor=admin_user)
    victim = make_lead("victim@example.com")
    record_event("merged", lead=victim, via=Event.Via.TRACKING,
                 properties={"merge_id": audit.pk, "merged_lead_id": 999})
    client = Client()
    client.force_login(admin_user)

    assert f"/merges/{audit.pk}/undo" not in client.get(f"/leads/{victim.pk}/").content.decode()
    assert f"/merges/{audit.pk}/undo" in client.get(f"/leads/{keep.pk}/").content.decode()


def test_only_an_admin_sees_creates_and_rotates_the_identity_secret(site, admin_user,
                                                                     make_user):
    from leadflow.accounts.models import Role

    marketing = Client()
    marketing.force_login(make_user("mia", Role.MARKETING))
    admin = Client()
    admin.force_login(admin_user)
    path = f"/tracking/{site.pk}/identity-secret"

    assert marketing.post(path, {"action": "rotate"}).status_code == 403
    site.refresh_from_db()
    assert site.identity_secret == ""

    assert admin.post(path, {"action": "rotate"}).status_code == 302
    site.refresh_from_db()
    first = site.identity_secret
    assert len(first) == 64
    assert first in admin.get("/tracking/").content.decode()
    assert first not in marketing.get("/tracking/").content.decode()

    admin.post(path, {"action": "rotate"})
    site.refresh_from_db()
    assert site.identity_secret not in ("", first)
    admin.post(path, {"action": "remove"})
    site.refresh_from_db()
    assert site.identity_secret == ""


def test_the_django_admin_neither_shows_nor_sets_the_identity_secret(signing_site, make_user,
                                                                     admin_user):
    from django.contrib.auth.models import Permission

    from leadflow.accounts.models import Role

    staff = make_user("mia", Role.MARKETING, is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_trackingsite", "change_trackingsite"]))
    for user in (staff, admin_user):
        client = Client()
        client.force_login(user)
        page = client.get(f"/admin/tracking/trackingsite/{signing_site.pk}/change/")
        assert page.status_code == 200
        assert SECRET not in page.content.decode() and "identity_secret" not in (
            page.content.decode())
