"""Large batches of events (the set-based ingestion path): what they store, and that their
cost in queries does not grow with their size."""

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import clock
from leadflow.core.sqlarrays import COPY_FROM
from leadflow.leads.models import Category, Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageThreshold
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.tracking.models import Event
from leadflow.tracking.services import NewEvent, api_key, record_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline_at_work(score_rules):
    """Scoring (including a once-per-lead rule), an MQL threshold and a campaign."""
    ScoreRule.objects.create(name="Pricing page", event_type="page_view",
                             conditions=[{"field": "path", "op": "equals", "value": "/pricing"}],
                             points=3,
                             category=Category.INTEREST, max_times=1)
    StageThreshold.objects.create(stage=Stage.MQL, min_score=8)
    return Campaign.objects.create(name="Welcome", entry_event_type="newsletter_signup")


def _batch(leads, n, tag):
    """Rounds over the leads: a sign-up each (+5), then page views, the pricing page
    twice (+3, once per lead) and blog pages; half of the events with idempotency keys."""
    events = []
    for i in range(n):
        lead, round_ = leads[i % len(leads)], i // len(leads)
        if round_ == 0:
            ev = {"type": "newsletter_signup", "lead_id": lead.pk}
        else:
            path = "/pricing" if round_ in (1, 2) else f"/blog/{i}"
            ev = {"type": "page_view", "lead_id": lead.pk, "properties": {"path": path}}
        if i % 2:
            ev["idempotency_key"] = f"{tag}-{i}"
        events.append(ev)
    return {"events": events}


def _pipeline_queries(captured) -> int:
    # The token's last-use time is written at most once a minute: left out.
    return sum(1 for q in captured.captured_queries if "accounts_apitoken" not in q["sql"])


def test_a_batch_costs_the_same_queries_whatever_its_size(api, make_lead, pipeline_at_work):
    leads = [make_lead(f"lead{i}@example.com") for i in range(300)]
    api.post("/events", _batch(leads[:5], 20, "warm"))
    with CaptureQueriesContext(connection) as small:
        assert api.post("/events", _batch(leads[5:10], 20, "small")).status_code == 200
    with CaptureQueriesContext(connection) as large:
        r = api.post("/events", _batch(leads[10:], 1000, "large"))

    assert r.status_code == 200 and r.json()["created"] == 1000
    assert _pipeline_queries(large) == _pipeline_queries(small)
    # Bounded: every pipeline consumer costs a few statements per batch (the segments'
    # queue and the campaigns' wake-up are the latest two).
    assert _pipeline_queries(large) <= 52


def test_a_large_batch_stores_every_event_as_sent_with_results_in_input_order(api, make_lead,
                                                                             admin_user):
    lead = make_lead("ana@example.com")
    awkward = {"text": "tab\there, new\nline, back\\slash, quote \"x\", é, 日本", "n": 1.5,
               "nested": {"list": [1, None, True]}}
    earlier = clock.now() - timedelta(days=2)
    events = [{"type": "page_view", "lead_id": lead.pk, "idempotency_key": f"k{i}",
               "occurred_at": (earlier + timedelta(seconds=i)).isoformat(),
               "properties": {**awkward, "i": i}} for i in range(COPY_FROM * 2)]
    r = api.post("/events", {"events": events})

    results = r.json()["results"]
    assert [x["index"] for x in results] == list(range(len(events)))
    stored = {e.pk: e for e in Event.objects.filter(lead=lead, type="page_view")}
    for i, result in enumerate(results):
        event = stored[result["event_id"]]
        assert event.properties == {**awkward, "i": i}
        assert event.idempotency_key == api_key(admin_user.pk, f"k{i}")
        assert event.occurred_at == earlier + timedelta(seconds=i)
        assert event.via == "api" and event.actor is not None


def test_each_lead_gets_its_own_points_by_category_from_one_batch(make_lead, score_rules):
    a, b, c = (make_lead(f"{n}@example.com") for n in "abc")
    items = ([NewEvent(type="newsletter_signup", lead_id=a.pk)] * 3             # +15 eng
             + [NewEvent(type="demo_requested", lead_id=b.pk)]                # +20 int
             + [NewEvent(type="newsletter_signup", lead_id=b.pk)]             # +5 eng
             + [NewEvent(type="unsubscribed", lead_id=c.pk)] * (COPY_FROM * 2))  # -5 each
    record_events(items)

    for lead, (total, eng, interest) in ((a, (15, 15, 0)), (b, (25, 5, 20)),
                                         (c, (-5 * COPY_FROM * 2, -5 * COPY_FROM * 2, 0))):
        lead.refresh_from_db()
        assert (lead.score, lead.engagement_score, lead.interest_score) == (total, eng,
                                                                            interest)
        assert lead.fit_score == 0
        assert lead.score == sum(ScoreEntry.objects.filter(lead=lead)
                                 .values_list("points", flat=True))


def test_a_large_batch_moves_each_last_touch_to_its_latest_event_only_forward(make_lead):
    recent, old = make_lead("recent@example.com"), make_lead("old@example.com")
    now = clock.now()
    Lead.objects.filter(pk=recent.pk).update(last_touch_at=now)
    Lead.objects.filter(pk=old.pk).update(last_touch_at=now - timedelta(days=30))
    items = [NewEvent(type="page_view", lead_id=lead.pk,
                      occurred_at=now - timedelta(days=10, minutes=i))
             for i in range(COPY_FROM) for lead in (recent, old)]
    record_events(items)

    recent.refresh_from_db()
    old.refresh_from_db()
    assert recent.last_touch_at == now
    assert old.last_touch_at == now - timedelta(days=10)


def test_the_pipeline_does_its_work_on_a_large_batch(api, make_lead, pipeline_at_work):
    leads = [make_lead(f"lead{i}@example.com") for i in range(100)]
    r = api.post("/events", _batch(leads, 1000, "x"))

    assert r.json()["created"] == 1000
    # Per lead: one sign-up (+5) and pricing views, of which only the first counts (+3).
    assert Lead.objects.filter(score=8, stage=Stage.MQL).count() == 100
    assert Enrollment.objects.filter(campaign=pipeline_at_work).count() == 100
    assert ScoreEntry.objects.filter(rule__name="Pricing page").count() == 100


@pytest.mark.django_db(transaction=True)
def test_two_batches_with_the_same_keys_at_once_store_each_key_once(api_for, admin_user,
                                                                       make_lead, score_rules):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers on separate connections need PostgreSQL")
    leads = [make_lead(f"lead{i}@example.com") for i in range(50)]
    payload = {"events": [{"type": "newsletter_signup", "lead_id": lead.pk,
                           "idempotency_key": f"same-{lead.pk}-{n}"}
                          for lead in leads for n in range(4)]}
    barrier = threading.Barrier(3)
    answers = []

    def post():
        barrier.wait()
        try:
            answers.append(api_for(admin_user).post("/events", payload).json())
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(a["created"] for a in answers) == 200
    assert all(a["created"] + a["duplicates"] == 200 for a in answers)
    assert Event.objects.filter(type="newsletter_signup").count() == 200
    assert sorted(Lead.objects.values_list("score", flat=True)) == [20] * 50


def test_a_nul_anywhere_in_properties_rejects_that_event_alone(api, make_lead):
    lead = make_lead("ana@example.com")
    events = [{"type": "page_view", "lead_id": lead.pk, "properties": {"path": f"/p{i}"}}
              for i in range(COPY_FROM)]
    events[3]["properties"] = {"nested": [{"deep": "a\x00b"}]}
    events[7]["properties"] = {"key\x00": "v"}
    events[9]["properties"] = {"text": "a literal \\x00 is fine"}
    r = api.post("/events", {"events": events})

    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses[3] == statuses[7] == "error"
    assert statuses.count("created") == COPY_FROM - 2
    assert Event.objects.filter(properties__text="a literal \\x00 is fine").count() == 1


def test_replaying_keys_with_quotes_commas_and_backslashes_finds_each_one(api, make_lead,
                                                                          admin_user):
    lead = make_lead("ana@example.com", external_id='ext,"1"\\')
    keys = ['a,b', 'say "hi"', 'back\\slash', '{braces}', "NULL", " spaced ", "é"]
    payload = {"events": [{"type": "page_view", "external_id": 'ext,"1"\\',
                           "idempotency_key": k} for k in keys]}
    first = api.post("/events", payload).json()
    again = api.post("/events", payload).json()

    assert first["created"] == len(keys) and first["errors"] == 0
    assert again["duplicates"] == len(keys) and again["created"] == 0
    assert [r["event_id"] for r in again["results"]] == [r["event_id"] for r in first["results"]]
    stored = Event.objects.filter(lead=lead).values_list("idempotency_key", flat=True)
    assert set(stored) >= {api_key(admin_user.pk, k) for k in keys}


def test_positional_constructors_follow_the_models_field_order():
    from leadflow.scoring.models import ScoreEntry
    from leadflow.scoring.services import ENTRY_FIELDS
    from leadflow.tracking.services import EVENT_FIELDS

    assert tuple(f.attname for f in Event._meta.concrete_fields) == EVENT_FIELDS
    assert tuple(f.attname for f in ScoreEntry._meta.concrete_fields) == ENTRY_FIELDS


def test_text_that_looks_like_copy_syntax_is_stored_as_sent(api, admin_user):
    # A large batch goes in through COPY's text format, where tab, newline, backslash and
    # \N (NULL) mean something: none of them may change a value.
    tricky = ["\\N", "a\tb", "line\nbreak", "cr\rhere", "back\\slash", "\\\\N", "é 日本"]
    events = [{"type": "page_view", "visitor_id": f"v{i}-{tricky[i % len(tricky)]}",
               "idempotency_key": f"{tricky[i % len(tricky)]}#{i}",
               "properties": {tricky[i % len(tricky)]: tricky[(i + 1) % len(tricky)]}}
              for i in range(COPY_FROM * 2)]
    r = api.post("/events", {"events": events})

    assert r.status_code == 200 and r.json()["created"] == len(events)
    stored = Event.objects.in_bulk([x["event_id"] for x in r.json()["results"]])
    for sent, result in zip(events, r.json()["results"], strict=True):
        event = stored[result["event_id"]]
        assert (event.visitor_id, event.idempotency_key, event.properties) == (
            sent["visitor_id"], api_key(admin_user.pk, sent["idempotency_key"]),
            sent["properties"])


def _rescans(plan: dict) -> list[str]:
    """Nodes a nested loop runs once per outer row although they have no index: a
    quadratic plan."""
    found = []
    children = plan.get("Plans", [])
    if plan["Node Type"] == "Nested Loop" and len(children) == 2:
        inner = children[1]
        while inner["Node Type"] in ("Materialize", "Memoize") and inner.get("Plans"):
            inner = inner["Plans"][0]
        if inner["Node Type"] in ("CTE Scan", "Function Scan", "Seq Scan"):
            found.append(inner["Node Type"])
    for child in children:
        found.extend(_rescans(child))
    return found


def test_the_lead_write_never_rescans_a_batch_per_lead_after_an_import(make_lead):
    # After an import, PostgreSQL's statistics still describe the smaller table until
    # autovacuum analyses it again, and it expects even fewer of a batch's leads to be
    # locked: an earlier form of the statement then compared every lead with every value
    # (250 ms a batch instead of 10).
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    from leadflow.core.sqlarrays import bulk_insert, int_array, time_array
    from leadflow.leads import totals
    from leadflow.leads.bulk import _COPY_FIELDS

    now = clock.now()
    leads = [Lead(email=f"l{i}@example.com", created_at=now, updated_at=now,
                  last_touch_at=now) for i in range(60_000)]
    with connection.cursor() as cursor:
        bulk_insert(Lead, leads[:10_000], _COPY_FIELDS)
        cursor.execute("ANALYZE leads_lead")
        bulk_insert(Lead, leads[10_000:], _COPY_FIELDS)
        ids = sorted({lead.pk for lead in random.Random(1).choices(leads, k=1000)})
        zeros = int_array(0 for _ in ids)
        cursor.execute("EXPLAIN (FORMAT JSON) " + totals.UPDATE_POSTGRESQL, {
            "ids": int_array(ids), "at": time_array(now + timedelta(seconds=1) for _ in ids),
            "fit": zeros, "eng": zeros, "int": zeros, "wf": 1, "we": 1, "wi": 1, "ga": 40,
            "gb": 25, "gc": 10, "grade": True})
        plan = cursor.fetchone()[0]

    assert _rescans(plan[0]["Plan"]) == []
