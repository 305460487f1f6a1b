"""Known crawlers: never stored, never leads, counted per day."""

import pytest
from django.test import Client

from leadflow.leads.models import Lead
from leadflow.tracking.models import BotHitCount, Event, Visitor
from leadflow.tracking.tests.conftest import VID, page_view
from leadflow.tracking.visitors import identify

pytestmark = pytest.mark.django_db

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def test_a_crawler_beacon_stores_no_event_and_is_counted(beacon, site):
    r = beacon([page_view(), page_view()], ua=GOOGLEBOT)
    beacon([page_view()], ua=GOOGLEBOT)

    assert r.status_code == 200 and r.json()["ignored"] == "bot"
    assert not Event.objects.exists()
    assert BotHitCount.objects.get(site=site).hits == 3
    assert Visitor.objects.get(visitor_id=VID).is_bot is True


def test_a_request_without_user_agent_is_treated_as_a_bot(beacon):
    beacon([page_view()], ua="")
    assert not Event.objects.exists()


def test_a_crawler_never_becomes_a_lead(beacon):
    beacon([page_view(), {"type": "identify", "props": {"email": "bot@example.com"}}],
           ua=GOOGLEBOT)
    assert not Lead.objects.exists()


def test_a_visitor_once_seen_as_a_bot_is_never_linked_to_a_lead(beacon, make_lead):
    beacon([page_view()], ua=GOOGLEBOT)
    lead = make_lead("ana@example.com")
    assert identify(VID, lead) == 0
    assert Visitor.objects.get(visitor_id=VID).lead is None


def test_the_bot_pixel_is_counted_not_stored(site):
    Client().get(f"/t/p.gif?s={site.key}",
                 headers={"Referer": "https://shop.example.com/", "User-Agent": GOOGLEBOT})
    assert not Event.objects.exists()
    assert BotHitCount.objects.get(site=site).hits == 1


def test_the_tracking_page_counts_people_not_bots(beacon, admin_user, client):
    beacon([page_view()])
    beacon([page_view(), page_view()], ua=GOOGLEBOT, vid="bot_AAAAAAAAAAAAAAAAA")
    client.force_login(admin_user)
    r = client.get("/tracking/")
    assert r.status_code == 200
    assert r.context["stats"].page_views == 1
    assert r.context["stats"].visitors == 1
    assert r.context["stats"].bot_hits == 2
