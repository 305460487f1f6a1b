"""Identify and merge: an anonymous visitor's history joins the lead's timeline."""

import pytest

from leadflow.leads.models import Lead
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.tracking.models import Event, Visitor
from leadflow.tracking.sites import identity_hash
from leadflow.tracking.tests.conftest import VID, page_view
from leadflow.tracking.visitors import identify

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_view_points(db):
    return ScoreRule.objects.create(name="Page view", event_type="page_view", points=2)


def test_identify_moves_the_anonymous_history_onto_the_lead(beacon, make_lead):
    beacon([page_view(f"https://shop.example.com/p{i}") for i in range(3)])
    assert Event.objects.filter(visitor_id=VID, lead__isnull=True).count() == 3
    lead = make_lead("ana@example.com")

    assert identify(VID, lead) == 3

    assert lead.events.filter(type="page_view").count() == 3
    assert Visitor.objects.get(visitor_id=VID).lead == lead


def test_merged_page_views_are_scored_once(beacon, make_lead, page_view_points):
    beacon([page_view(), page_view()])
    lead = make_lead("ana@example.com")
    identify(VID, lead)
    identify(VID, lead)

    lead.refresh_from_db()
    assert lead.score == 4
    assert ScoreEntry.objects.filter(lead=lead, rule=page_view_points).count() == 2


def test_identifying_twice_is_harmless(beacon, make_lead):
    beacon([page_view()])
    lead = make_lead("ana@example.com")
    assert identify(VID, lead) == 1
    assert identify(VID, lead) == 0
    assert lead.events.filter(type="page_view").count() == 1


def test_events_after_identify_go_straight_to_the_lead(beacon, make_lead, page_view_points):
    lead = make_lead("ana@example.com")
    identify(VID, lead)
    beacon([page_view()])

    assert lead.events.filter(type="page_view", visitor_id=VID).count() == 1
    lead.refresh_from_db()
    assert lead.score == 2


def test_identify_through_collect_upserts_the_lead_by_email(beacon):
    r = beacon([page_view(), {"type": "identify",
                              "props": {"email": "Ana@Example.com", "first_name": "Ana"}}])

    assert r.json()["identified"] is True
    lead = Lead.objects.get(email="ana@example.com")
    assert lead.first_name == "Ana"
    assert lead.events.filter(type="page_view").count() == 1


def test_two_devices_identified_as_one_email_make_one_lead_with_one_timeline(beacon, site):
    # The second device names an existing lead: its identify must be signed to link it.
    site.identity_secret = "secret"
    site.save()
    laptop, phone = "laptop_AAAAAAAAAAAAAAAA", "phone_BBBBBBBBBBBBBBBBB"
    beacon([page_view("https://shop.example.com/a")], vid=laptop)
    beacon([page_view("https://shop.example.com/b")], vid=phone)
    who = {"type": "identify", "props": {"email": "ana@example.com",
                                         "user_hash": identity_hash("secret", "ana@example.com")}}
    beacon([who], vid=laptop)
    beacon([who], vid=phone)

    lead = Lead.objects.get(email="ana@example.com")
    assert Lead.objects.count() == 1
    urls = sorted(e.properties["url"] for e in lead.events.filter(type="page_view"))
    assert urls == ["https://shop.example.com/a", "https://shop.example.com/b"]
    assert set(Visitor.objects.values_list("lead", flat=True)) == {lead.pk}


def test_a_malformed_visitor_id_merges_nothing(make_lead):
    lead = make_lead("ana@example.com")
    assert identify("bad id; drop", lead) == 0
    assert identify("", lead) == 0
    assert not Visitor.objects.exists()


def test_identify_with_a_bad_email_is_rejected_alone(beacon):
    r = beacon([page_view(), {"type": "identify", "props": {"email": "not-an-email"}}])

    body = r.json()
    assert (body["accepted"], body["rejected"], body["identified"]) == (1, 1, False)
    assert not Lead.objects.exists()
