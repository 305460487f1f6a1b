"""POST /api/v1/leads/bulk: up to 1,000 leads, one result per item, bad items never block
the good ones; set-based (a bounded number of queries whatever the batch size)."""

from __future__ import annotations

import re

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.bulk import bulk_upsert
from leadflow.leads.models import Lead
from leadflow.routing.models import RoutingRule
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def test_bulk_creates_updates_and_reports_each_item(api, make_lead):
    make_lead("ana@example.com", first_name="Ana")

    resp = api.post("/leads/bulk", {"leads": [
        {"email": "ANA@example.com", "first_name": "Anna"},
        {"email": "bo@example.com", "source": "webinar"},
        {"email": "nope"},
        {"external_id": "crm-1", "do_not_email": "maybe"},
        {"first_name": "No identifier"},
        {"email": "ana@example.com", "first_name": "Anna"},
    ]})

    assert resp.status_code == 200
    body = resp.json()
    assert [(r["status"], r["field"]) for r in body["results"]] == [
        ("updated", None), ("created", None), ("error", "email"),
        ("error", "do_not_email"), ("error", "email"), ("unchanged", None)]
    assert (body["created"], body["updated"], body["unchanged"], body["errors"]) == (1, 1, 1, 3)
    assert body["results"][1]["id"] == Lead.objects.get(email="bo@example.com").pk
    assert Lead.objects.get(email="ana@example.com").first_name == "Anna"
    assert Event.objects.filter(type="lead_created", lead__email="bo@example.com",
                                via="api").count() == 1


def test_replaying_a_bulk_request_changes_nothing(api):
    batch = {"leads": [{"email": f"l{i}@example.com", "first_name": f"L{i}"} for i in range(5)]}
    api.post("/leads/bulk", batch)
    events = Event.objects.count()

    again = api.post("/leads/bulk", batch).json()

    assert again["unchanged"] == 5
    assert Event.objects.count() == events


def test_more_than_1000_leads_is_422(api):
    resp = api.post("/leads/bulk", {"leads": [{"email": f"l{i}@x.com"} for i in range(1001)]})

    assert resp.status_code == 422
    assert resp.json()["field"] == "leads"
    assert not Lead.objects.exists()


def test_bulk_follows_the_rule_of_post_leads_for_reps(make_user, api_for):
    rep = make_user("rita", Role.SALES_REP)

    resp = api_for(rep).post("/leads/bulk", {"leads": [{"email": "a@example.com"}]})

    assert resp.status_code == 200
    assert resp.json()["created"] == 1


def test_new_leads_are_routed(api, make_user):
    from leadflow.accounts.models import Team

    team = Team.objects.create(name="France")
    rep = make_user("rita", Role.SALES_REP, team=team)
    RoutingRule.objects.create(name="fr", team=team, countries=["FR"], priority=1)

    api.post("/leads/bulk", {"leads": [{"email": "a@example.com", "country": "FR"},
                                       {"email": "b@example.com", "country": "DE"}]})

    assert dict(Lead.objects.values_list("email", "owner")) == {"a@example.com": rep.pk,
                                                                "b@example.com": None}


def test_bulk_upsert_of_500_rows_takes_a_bounded_number_of_queries(
        django_assert_max_num_queries, make_lead):
    for i in range(50):
        make_lead(f"old{i}@example.com")
    rows = ([{"email": f"old{i}@example.com", "city": "Lyon"} for i in range(50)]
            + [{"email": f"new{i}@example.com", "first_name": f"N{i}"} for i in range(450)])

    with django_assert_max_num_queries(30):
        results = bulk_upsert(rows, via=Event.Via.IMPORT)

    assert [r.status for r in results].count("created") == 450
    assert Lead.objects.filter(city="Lyon").count() == 50


def test_bulk_applies_data_quality_and_suggests_duplicates_like_post_leads(api):
    from leadflow.leads.models import DuplicateSuggestion

    body = api.post("/leads/bulk", {"leads": [
        {"email": "ana.lima@acme.example", "first_name": "Ana", "last_name": "Lima",
         "phone": "06 12 34 56 78", "country": "France"},
        {"email": "a.lima@acme.example", "first_name": "Ana", "last_name": "Lima",
         "phone": "12", "country": "FR"},
    ]}).json()

    assert body["created"] == 2
    ana, other = Lead.objects.order_by("pk")
    assert (ana.phone, ana.country, ana.quality_flags) == ("+33612345678", "FR", [])
    assert other.quality_flags == ["invalid_phone"]
    assert Event.objects.filter(type="quality_flags_changed", lead=other).count() == 1
    assert DuplicateSuggestion.objects.count() == 1


@pytest.fixture
def trade_show_rule(db):
    from leadflow.leads.models import Category
    from leadflow.scoring.models import ScoreRule

    return ScoreRule.objects.create(name="Met at a trade show", event_type="lead_created",
                                    conditions=[{"field": "source", "op": "equals",
                                                 "value": "trade show"}],
                                    points=20,
                                    category=Category.FIT)


def _rows(n: int) -> list[dict]:
    # Enough rows for PostgreSQL's COPY path (sqlarrays.COPY_FROM), half from a trade show.
    return [{"email": f"visitor{i}@example.com",
             "source": "trade show" if i % 2 else "google"} for i in range(n)]


def test_new_leads_are_written_once_with_the_points_of_their_creation(trade_show_rule):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadflow.scoring.models import ScoreEntry

    with CaptureQueriesContext(connection) as ctx:
        results = bulk_upsert(_rows(60), via=Event.Via.IMPORT)

    assert {r.status for r in results} == {"created"}
    rewrites = [q["sql"] for q in ctx.captured_queries
                if re.search(r'\bUPDATE "?leads_lead\b', q["sql"])]
    assert rewrites == []
    scored = Lead.objects.filter(source="trade show")
    assert sorted(set(scored.values_list("fit_score", "score"))) == [(20, 20)]
    assert set(Lead.objects.filter(source="google").values_list("score", flat=True)) == {0}
    assert ScoreEntry.objects.filter(rule=trade_show_rule).count() == scored.count() == 30


def test_new_leads_whose_creation_crosses_a_threshold_are_promoted(trade_show_rule):
    from leadflow.lifecycle.models import StageChange, StageThreshold

    StageThreshold.objects.create(stage="mql", min_score=15)

    bulk_upsert(_rows(60), via=Event.Via.IMPORT)

    promoted = Lead.objects.filter(stage="mql")
    assert set(promoted.values_list("source", flat=True)) == {"trade show"}
    assert StageChange.objects.filter(to_stage="mql").count() == promoted.count() == 30


def test_ids_reserved_for_new_leads_are_never_handed_out_again(make_lead):
    from leadflow.core.sqlarrays import reserve_ids

    first = reserve_ids(Lead, 3)
    saved = make_lead("ana@example.com")
    second = reserve_ids(Lead, 2)

    assert len(set(first + second)) == 5
    assert max(first) < saved.pk < min(second)
