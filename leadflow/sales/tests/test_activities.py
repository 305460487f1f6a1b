"""A rep logs calls, one-to-one emails, meetings and notes on a lead: each is an event on
its timeline, recorded by the rep; the first touch after a hand-off is read set-based."""

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.sales.services import first_touch_after, log_activity
from leadflow.tracking.events import describe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Rep")


@pytest.fixture
def lead(make_lead, rep):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()
    return lead


def test_a_logged_call_is_an_event_on_the_timeline_by_the_rep(api_for, rep, lead):
    api = api_for(rep)
    answer = api.post(f"/leads/{lead.pk}/activities", {
        "kind": "call", "text": "Wants a demo next week", "duration": 12,
        "outcome": "connected"})
    assert answer.status_code == 201, answer.json()
    event = lead.events.get(type="call_logged")
    assert event.actor == rep
    assert event.properties == {"text": "Wants a demo next week", "duration": 12,
                                "outcome": "connected"}
    shown = describe(event.type, event.properties, str(rep))
    assert shown.title == "Call by Rita Rep"
    assert shown.detail == "connected · 12 min · Wants a demo next week"
    assert shown.kind == "sales"

    listed = api.get(f"/leads/{lead.pk}/activities").json()
    assert [(a["kind"], a["duration"], a["outcome"]) for a in listed] == [
        ("call", 12, "connected")]


def test_emails_meetings_and_notes_are_logged_with_their_own_fields(api_for, rep, lead):
    api = api_for(rep)
    assert api.post(f"/leads/{lead.pk}/activities", {
        "kind": "email", "subject": "Your quote", "text": "Sent the quote"}).status_code == 201
    assert api.post(f"/leads/{lead.pk}/activities", {
        "kind": "meeting", "duration": 45, "text": "On site"}).status_code == 201
    assert api.post(f"/leads/{lead.pk}/activities", {
        "kind": "note", "text": "Prefers mornings"}).status_code == 201
    kinds = [a["kind"] for a in api.get(f"/leads/{lead.pk}/activities").json()]
    assert sorted(kinds) == ["email", "meeting", "note"]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "note"}, "text"),
    ({"kind": "note", "text": "x", "duration": 5}, "duration"),
    ({"kind": "call", "duration": 0}, "duration"),
    ({"kind": "call", "outcome": "maybe"}, "outcome"),
    ({"kind": "meeting", "outcome": "connected"}, "outcome"),
    ({"kind": "call", "subject": "Hi"}, "subject"),
    ({"kind": "call", "text": "a\x00b"}, "text"),
    ({"kind": "call", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ({"kind": "fax"}, "kind"),
])
def test_a_wrong_activity_is_a_422_naming_its_field(api_for, rep, lead, body, field):
    answer = api_for(rep).post(f"/leads/{lead.pk}/activities", body)
    assert answer.status_code == 422
    assert answer.json()["field"] == field
    assert not lead.events.filter(type__in=["call_logged", "meeting_logged", "note"]).exists()


def test_first_touch_after_a_time_is_read_for_many_leads_in_one_query(
        rep, make_lead, django_assert_num_queries):
    leads = [make_lead(f"p{i}@example.com") for i in range(3)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(owner=rep)
    for x in leads:
        x.refresh_from_db()
    handed = clock.now() - timedelta(hours=2)
    log_activity(leads[0], "call", actor=rep, occurred_at=handed - timedelta(hours=1))
    log_activity(leads[0], "note", actor=rep, text="not a touch")
    log_activity(leads[0], "meeting", actor=rep, occurred_at=handed + timedelta(minutes=30))
    log_activity(leads[0], "email", actor=rep, occurred_at=handed + timedelta(minutes=40))
    log_activity(leads[1], "note", actor=rep, text="only a note")
    with django_assert_num_queries(1):
        found = first_touch_after([x.pk for x in leads], handed)
    assert found == {leads[0].pk: handed + timedelta(minutes=30)}


@pytest.mark.parametrize("type", ["call_logged", "email_logged", "meeting_logged",
                                  "opportunity_closed"])
def test_a_touch_is_never_forged_through_the_events_api(api, lead, type):
    # The response-time clock stops on these: only a person, through the service, logs one.
    answer = api.post("/events", {"events": [{"type": type, "lead_id": lead.pk}]})
    [result] = answer.json()["results"]
    assert result["status"] == "error"
    assert "recorded by Leadflow itself" in result["message"]
    assert not lead.events.filter(type=type).exists()
