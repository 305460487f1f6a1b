"""The event pipeline's entrance: record_event and POST /api/v1/events."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.accounts.models import Role
from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.scoring.models import ScoreEntry
from leadflow.tracking.models import Event
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


def test_record_event_stores_once_per_idempotency_key(make_lead, score_rules):
    lead = make_lead("ana@example.com")
    first, created = record_event("newsletter_signup", lead=lead, idempotency_key="k-1")
    again, created_again = record_event("newsletter_signup", lead=lead, idempotency_key="k-1")

    assert created is True and created_again is False
    assert again.pk == first.pk
    assert Event.objects.filter(idempotency_key="k-1").count() == 1
    lead.refresh_from_db()
    assert lead.score == 5
    assert ScoreEntry.objects.filter(lead=lead).count() == 1


def test_events_without_a_key_are_each_stored(make_lead, score_rules):
    lead = make_lead("ana@example.com")
    record_event("newsletter_signup", lead=lead)
    record_event("newsletter_signup", lead=lead)
    assert lead.events.filter(type="newsletter_signup").count() == 2
    lead.refresh_from_db()
    assert lead.score == 10


def test_batch_gives_one_result_per_item_and_bad_items_do_not_stop_good_ones(
        api, make_lead, score_rules):
    lead = make_lead("ana@example.com", external_id="crm-1")
    r = api.post("/events", {"events": [
        {"type": "newsletter_signup", "lead_id": lead.pk, "idempotency_key": "a"},
        {"type": "page_view", "lead_id": 999999, "idempotency_key": "b"},
        {"lead_id": lead.pk, "idempotency_key": "c"},
        {"type": "page_view", "email": "ANA@example.com", "idempotency_key": "d"},
        {"type": "page_view", "external_id": "crm-1", "idempotency_key": "e"},
        {"type": "page_view", "email": "nobody@example.com"},
        {"type": "page_view"},
    ]})

    assert r.status_code == 200, r.content
    body = r.json()
    assert [x["status"] for x in body["results"]] == [
        "created", "error", "error", "created", "created", "error", "error"]
    assert [x["index"] for x in body["results"]] == list(range(7))
    assert (body["created"], body["duplicates"], body["errors"]) == (3, 0, 4)
    assert "999999" in body["results"][1]["message"]
    assert "type" in body["results"][2]["message"]
    assert body["results"][1]["event_id"] is None
    stored = Event.objects.filter(pk__in=[x["event_id"] for x in body["results"]
                                          if x["event_id"]])
    assert {e.lead_id for e in stored} == {lead.pk}
    assert sorted(e.type for e in stored) == ["newsletter_signup", "page_view", "page_view"]
    assert all(e.via == Event.Via.API for e in stored)
    lead.refresh_from_db()
    assert lead.score == 5


def test_a_rep_cannot_record_events_on_a_lead_that_is_not_theirs(make_user, api_for,
                                                                  make_lead):
    rep = make_user("rita", Role.SALES_REP)
    other = make_user("oscar", Role.SALES_REP)
    mine = make_lead("mine@example.com")
    theirs = make_lead("theirs@example.com")
    Lead.objects.filter(pk=mine.pk).update(owner=rep)
    Lead.objects.filter(pk=theirs.pk).update(owner=other)

    r = api_for(rep).post("/events", {"events": [
        {"type": "note", "lead_id": theirs.pk},
        {"type": "note", "lead_id": mine.pk},
        {"type": "note", "email": "theirs@example.com"},
    ]})

    assert r.status_code == 200, r.content
    assert [x["status"] for x in r.json()["results"]] == ["error", "created", "error"]
    assert not theirs.events.filter(type="note").exists()
    assert mine.events.filter(type="note").count() == 1


def test_replaying_a_whole_batch_adds_nothing(api, make_lead, score_rules):
    ana = make_lead("ana@example.com")
    bo = make_lead("bo@example.com")
    batch = {"events": [
        {"type": "newsletter_signup", "lead_id": ana.pk, "idempotency_key": "n-ana"},
        {"type": "demo_requested", "lead_id": bo.pk, "idempotency_key": "d-bo"},
        {"type": "page_view", "lead_id": 424242, "idempotency_key": "bad"},
    ]}
    first = api.post("/events", batch).json()
    events_before = Event.objects.count()
    entries_before = ScoreEntry.objects.count()

    replay = api.post("/events", batch).json()

    assert (first["created"], first["duplicates"], first["errors"]) == (2, 0, 1)
    assert (replay["created"], replay["duplicates"], replay["errors"]) == (0, 2, 1)
    assert [x["event_id"] for x in replay["results"]] == [
        x["event_id"] for x in first["results"]]
    assert Event.objects.count() == events_before
    assert ScoreEntry.objects.count() == entries_before
    ana.refresh_from_db()
    bo.refresh_from_db()
    assert (ana.score, bo.score) == (5, 20)


def test_the_same_key_twice_in_one_batch_is_stored_once(api, make_lead, score_rules):
    lead = make_lead("ana@example.com")
    r = api.post("/events", {"events": [
        {"type": "newsletter_signup", "lead_id": lead.pk, "idempotency_key": "twice"},
        {"type": "newsletter_signup", "lead_id": lead.pk, "idempotency_key": "twice"},
    ]}).json()

    assert [x["status"] for x in r["results"]] == ["created", "duplicate"]
    assert r["results"][0]["event_id"] == r["results"][1]["event_id"]
    lead.refresh_from_db()
    assert lead.score == 5


def test_api_keys_never_collide_with_leadflows_own_keys_or_another_users(
        make_user, api_for, make_lead):
    from leadflow.emails import tokens
    from leadflow.emails.models import EmailMessage
    from leadflow.emails.services import record_open

    rep1, rep2 = make_user("rep1"), make_user("rep2")
    mine, theirs = make_lead("mine@example.com"), make_lead("theirs@example.com")
    Lead.objects.filter(pk=mine.pk).update(owner=rep1)
    Lead.objects.filter(pk=theirs.pk).update(owner=rep2)
    msg = EmailMessage.objects.create(lead=theirs, to_email=theirs.email, subject="hi",
                                      status=EmailMessage.Status.SENT)
    shared = {"type": "pricing_read", "idempotency_key": "order-1"}
    first = api_for(rep2).post("/events", {"events": [{**shared, "lead_id": theirs.pk}]})

    r = api_for(rep1).post("/events", {"events": [
        {"type": "pricing_read", "lead_id": mine.pk, "idempotency_key": f"email_opened:{msg.pk}"},
        {**shared, "lead_id": mine.pk}]}).json()

    assert [x["status"] for x in r["results"]] == ["created", "created"]
    assert first.json()["results"][0]["event_id"] not in [x["event_id"] for x in r["results"]]
    assert record_open(tokens.open_token(msg.pk))
    assert Event.objects.filter(lead=theirs, type="email_opened").count() == 1
    again = api_for(rep1).post("/events", {"events": [{**shared, "lead_id": mine.pk}]}).json()
    assert again["duplicates"] == 1  # the same key from the same user is still a replay


def test_more_than_1000_events_is_422(api, make_lead):
    lead = make_lead("ana@example.com")
    r = api.post("/events", {"events": [{"type": "page_view", "lead_id": lead.pk}] * 1001})

    assert r.status_code == 422
    assert r.json()["field"] == "events"
    assert not lead.events.filter(type="page_view").exists()


def test_exactly_1000_events_are_accepted(api, make_lead):
    lead = make_lead("ana@example.com")
    r = api.post("/events", {"events": [{"type": "page_view", "lead_id": lead.pk}] * 1000})

    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1000
    assert lead.events.filter(type="page_view").count() == 1000


def test_an_anonymous_visitor_event_is_stored_with_its_visitor_id(api):
    r = api.post("/events", {"events": [
        {"type": "page_view", "visitor_id": "v-123", "properties": {"url": "/pricing"}}]})

    assert r.status_code == 200, r.content
    assert r.json()["results"][0]["status"] == "created"
    event = Event.objects.get(pk=r.json()["results"][0]["event_id"])
    assert (event.visitor_id, event.lead_id, event.type) == ("v-123", None, "page_view")
    assert event.properties == {"url": "/pricing"}


def test_last_touch_follows_the_latest_event_and_never_goes_back(make_lead):
    lead = make_lead("ana@example.com")
    later = clock.now() + timedelta(days=3)
    record_event("page_view", lead=lead, occurred_at=later)
    record_event("page_view", lead=lead, occurred_at=later - timedelta(days=10))

    lead.refresh_from_db()
    assert lead.last_touch_at == later


def test_what_we_do_to_a_lead_does_not_move_its_last_touch(make_lead):
    with clock.travel():
        lead = make_lead("ana@example.com")
        touched = Lead.objects.get(pk=lead.pk).last_touch_at
        clock.advance(timedelta(days=2))

        for kind in ("assigned", "stage_changed", "email_sent", "campaign_entered",
                     "quality_flags_changed", "lead_created"):
            record_event(kind, lead=lead)
        assert Lead.objects.get(pk=lead.pk).last_touch_at == touched

        record_event("email_opened", lead=lead)
        assert Lead.objects.get(pk=lead.pk).last_touch_at == clock.now()


def _post_signups(api, leads):
    return api.post("/events", {"events": [
        {"type": "newsletter_signup", "lead_id": lead.pk, "idempotency_key": f"k-{lead.pk}"}
        for lead in leads]})


def test_a_100_event_batch_takes_a_bounded_number_of_queries(
        api, make_lead, score_rules, django_assert_max_num_queries):
    # Every consumer has work: each event scores, promotes its lead to MQL and enrols it.
    StageThreshold.objects.create(stage=Stage.MQL, min_score=5)
    welcome = Campaign.objects.create(name="Welcome", entry_event_type="newsletter_signup")
    leads = [make_lead(f"lead{i}@example.com") for i in range(110)]
    stages.definitions()  # a per-process cache, read once: warm it so both counts match
    with CaptureQueriesContext(connection) as small:
        assert _post_signups(api, leads[:10]).status_code == 200

    # (52: the webhooks step reads the subscriptions for each batch holding a kind.)
    with django_assert_max_num_queries(52):
        r = _post_signups(api, leads[10:])

    assert r.status_code == 200, r.content
    assert r.json()["created"] == 100
    assert Lead.objects.filter(score=5, stage=Stage.MQL).count() == 110
    assert StageChange.objects.filter(to_stage=Stage.MQL).count() == 110
    assert Event.objects.filter(type="stage_changed").count() == 110
    assert Enrollment.objects.filter(campaign=welcome, status="active").count() == 110
    assert Event.objects.filter(type="campaign_entered").count() == 110
    # The same work for 10 events as for 100: nothing is done per event. (The token's
    # last-use time is written at most once a minute, so its queries are left out.)
    more = [make_lead(f"more{i}@example.com") for i in range(100)]
    with CaptureQueriesContext(connection) as large:
        _post_signups(api, more)
    assert _pipeline_queries(large) == _pipeline_queries(small)


def _pipeline_queries(captured) -> int:
    return sum(1 for q in captured.captured_queries if "accounts_apitoken" not in q["sql"])


def test_events_for_an_erased_person_are_refused(api, admin_user, make_lead):
    from leadflow.leads.privacy import erase_lead

    lead = make_lead("ana@example.com")
    erase_lead(lead, actor=admin_user)

    r = api.post("/events", {"events": [{"type": "page_view", "lead_id": lead.pk}]})

    assert r.status_code == 200
    assert r.json()["errors"] == 1 and r.json()["created"] == 0
    assert not Event.objects.filter(lead_id=lead.pk, type="page_view").exists()


def test_deleting_a_lead_deletes_its_timeline_and_a_deleted_actor_is_forgotten(
        make_lead, make_user):
    # The event table has no database foreign keys (docs/decisions/0003): Django's own
    # cascade is what keeps it whole.
    lead, other = make_lead("gone@example.com"), make_lead("stays@example.com")
    actor = make_user("rep1")
    record_event("note", lead=lead, actor=actor, properties={"text": "called"})
    kept, _ = record_event("note", lead=other, actor=actor, properties={"text": "emailed"})

    lead.delete()
    actor.delete()

    assert not Event.objects.filter(lead_id=lead.pk).exists()
    kept.refresh_from_db()
    assert kept.lead_id == other.pk and kept.actor_id is None
