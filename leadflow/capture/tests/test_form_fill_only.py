"""A public form is an untrusted channel: posted with a known lead's email, it fills that
lead's empty fields and never overwrites the others; the visitor's tracked events wait
for proof (a double opt-in confirmation) before they count."""

import json
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.emails import outbox
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.models import Event, TrackingSite, Visitor
from leadflow.tracking.tests.conftest import BROWSER_UA, page_view

pytestmark = pytest.mark.django_db

VID = "vid_FORMFORMFORMFORMFORM"


@pytest.fixture
def known(make_lead):
    return make_lead("ana@example.com", first_name="Ana", company_name="Acme",
                     phone="+33 6 12 34 56 78")


@pytest.fixture
def form(db):
    return Form.objects.create(name="Contact", slug="contact", title="Contact us")


def _post(form, values: dict):
    return Client().post(f"/f/{form.slug}/", {**values, "lf_token": aged_token(form.pk)},
                         REMOTE_ADDR="203.0.113.7")


def _beacon(events: list):
    TrackingSite.objects.get_or_create(key="lf_shopkey", defaults={
        "name": "Shop", "allowed_domains": "example.com"})
    return Client().post("/t/collect", json.dumps({"site": "lf_shopkey", "vid": VID,
                                                   "consent": True, "events": events}),
                         content_type="text/plain",
                         headers={"Origin": "https://example.com", "User-Agent": BROWSER_UA})


def test_a_form_post_with_a_known_email_never_overwrites_its_fields(form, known):
    r = _post(form, {"email": "ana@example.com", "first_name": "Mallory",
                     "company_name": "Evil Corp"})

    assert r.status_code in (200, 302)
    known.refresh_from_db()
    assert (known.first_name, known.company_name) == ("Ana", "Acme")
    assert known.events.filter(type="form_submitted").count() == 1


def test_a_form_post_fills_a_known_leads_empty_fields(form, known):
    _post(form, {"email": "ana@example.com", "last_name": "Lopez"})

    known.refresh_from_db()
    assert (known.first_name, known.last_name) == ("Ana", "Lopez")


def test_a_form_with_a_known_email_does_not_link_the_visitor(form, known, db):
    ScoreRule.objects.create(name="Views", event_type="page_view", points=3)
    _beacon([page_view("https://example.com/a", key="a")])

    _post(form, {"email": "ana@example.com", "lf_vid": VID})
    _beacon([page_view("https://example.com/b", key="b")])

    known.refresh_from_db()
    assert known.score == 0
    assert not known.events.filter(type="page_view").exists()
    assert Visitor.objects.get(visitor_id=VID).claimed_lead == known


def test_double_opt_in_confirmation_verifies_the_visitor_and_its_events_count(
        known, smtp_server):
    ScoreRule.objects.create(name="Views", event_type="page_view", points=3)
    form = Form.objects.create(name="News", slug="news", title="News", double_opt_in=True)
    _beacon([page_view("https://example.com/a", key="a")])
    _post(form, {"email": "ana@example.com", "lf_vid": VID})
    outbox.send_due()  # as a worker does
    body = smtp_server.messages[-1].get_payload(decode=True).decode()
    confirm = urlsplit(re.search(r"(http\S+/f/confirm/\S+)", body).group(1)).path

    Client().post(confirm)
    _beacon([page_view("https://example.com/b", key="b")])

    known.refresh_from_db()
    assert Visitor.objects.get(visitor_id=VID).lead == known
    assert known.events.filter(type="page_view").count() == 2
    assert known.score == 6
    assert not Event.objects.filter(visitor_id=VID, lead__isnull=True).exists()


def test_confirming_ones_own_opt_in_does_not_verify_another_browsers_claim(known):
    from leadflow.capture import services as capture
    from leadflow.capture.models import OptInRequest
    from leadflow.capture.tokens import optin_token

    form = Form.objects.create(name="News", slug="news", title="News", double_opt_in=True)
    other_vid = "vid_OTHEROTHEROTHEROTHE"
    _post(form, {"email": "ana@example.com", "lf_vid": other_vid})  # someone else, first
    _post(form, {"email": "ana@example.com", "lf_vid": VID})
    own = OptInRequest.objects.order_by("-pk").first()

    capture.confirm_optin(optin_token(own.pk))

    assert Visitor.objects.get(visitor_id=VID).lead == known
    assert Visitor.objects.get(visitor_id=other_vid).lead is None


@pytest.mark.parametrize("event_type", ["won", "merged", "consent_withdrawn"])
def test_a_public_form_may_not_record_leadflows_own_event_types(make_user, event_type):
    from leadflow.accounts.models import Role

    marketer = Client()
    marketer.force_login(make_user("mia", Role.MARKETING))
    r = marketer.post("/forms/new/", {"name": "Sneaky", "slug": "sneaky", "title": "Sneaky",
                                      "channel": "web", "event_type": event_type})

    assert r.status_code == 422
    assert "recorded by Leadflow itself" in r.content.decode()
    assert not Form.objects.filter(slug="sneaky").exists()
