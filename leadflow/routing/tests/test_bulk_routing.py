"""Routing many new leads at once (POST /leads/bulk, imports): a constant number of
queries per batch whatever its size, and the round robin stays even across batches."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from leadflow.accounts.models import Role, Team, User
from leadflow.imports.services import import_path
from leadflow.leads.models import Lead
from leadflow.routing.models import RoutingRule
from leadflow.tracking.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def france(make_user) -> list[User]:
    """Three French reps (and a rep of another team), a rule sending French leads to them."""
    team = Team.objects.create(name="France")
    export = Team.objects.create(name="Export")
    make_user("emma", Role.SALES_REP, team=export)
    RoutingRule.objects.create(name="Paid search", priority=20, team=export, sources=["google"])
    RoutingRule.objects.create(name="France", priority=10, team=team, countries=["FR"])
    return [make_user(name, Role.SALES_REP, team=team) for name in ("anne", "bruno", "chloe")]


def _bulk(api, emails: list[str]) -> None:
    r = api.post("/leads/bulk", {"leads": [{"email": e, "country": "FR"} for e in emails]})
    assert r.status_code == 200, r.content
    assert r.json()["created"] == len(emails)


@pytest.mark.parametrize("size", [10, 500])
def test_routing_a_bulk_call_takes_the_same_bounded_queries_whatever_its_size(
        france, api, django_assert_max_num_queries, size):
    emails = [f"l{i}@example.com" for i in range(size)]
    with django_assert_max_num_queries(42):
        _bulk(api, emails)
    assert Lead.objects.filter(owner__isnull=True).count() == 0
    assert Event.objects.filter(type=EventType.ASSIGNED).count() == size


def test_bulk_routing_shares_leads_evenly_and_the_turn_carries_over_to_the_next_call(
        france, api):
    anne, bruno, chloe = france
    _bulk(api, [f"a{i}@example.com" for i in range(4)])
    _bulk(api, [f"b{i}@example.com" for i in range(4)])
    owners = list(Lead.objects.order_by("pk").values_list("owner", flat=True))
    assert owners == [p.pk for p in (anne, bruno, chloe, anne, bruno, chloe, anne, bruno)]


def test_a_new_rep_gets_the_next_lead_then_the_rep_who_waited_longest(france, api, make_user):
    anne, bruno, chloe = france
    _bulk(api, [f"a{i}@example.com" for i in range(2)])  # anne, bruno
    dora = make_user("dora", Role.SALES_REP, team=anne.team)
    _bulk(api, [f"b{i}@example.com" for i in range(3)])
    owners = list(Lead.objects.order_by("pk").values_list("owner", flat=True))
    assert owners == [p.pk for p in (anne, bruno, chloe, dora, anne)]


def test_each_routed_lead_gets_its_assigned_event_with_owner_and_team(france, api):
    _bulk(api, ["a@example.com"])
    lead = Lead.objects.get()
    assert (lead.owner, lead.team, lead.assigned_at is not None) == (
        france[0], france[0].team, True)
    event = lead.events.get(type=EventType.ASSIGNED)
    assert event.properties == {"owner_id": france[0].pk, "owner": str(france[0]),
                                "previous_owner_id": None, "reason": "round-robin in France"}
    assert france[0].__class__.objects.get(pk=france[0].pk).last_assigned_at is not None


def test_leads_of_a_team_without_available_rep_keep_the_team_only(france, api):
    User.objects.filter(pk__in=[p.pk for p in france]).update(accepts_leads=False)
    _bulk(api, ["a@example.com", "b@example.com"])
    assert set(Lead.objects.values_list("owner", "team__name")) == {(None, "France")}
    assert not Event.objects.filter(type=EventType.ASSIGNED).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_calls_keep_the_turn_fair(france, admin_user, api_for):
    if connection.vendor != "postgresql":
        pytest.skip("requests racing on separate connections need PostgreSQL's row locks")
    start = threading.Barrier(3)
    statuses: list[int] = []

    def caller(n: int) -> None:
        try:
            api = api_for(admin_user)
            start.wait()
            r = api.post("/leads/bulk", {"leads": [{"email": f"c{n}-{i}@example.com",
                                                    "country": "FR"} for i in range(2)]})
            statuses.append(r.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200, 200]
    # Six leads, three reps: two each, whichever request locked the team first.
    assert Counter(Lead.objects.values_list("owner", flat=True)) == {
        rep.pk: 2 for rep in france}


@pytest.fixture
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.usefixtures("_media_in_tmp")
@pytest.mark.parametrize("size", [10, 300])
def test_an_import_routes_its_new_leads_evenly_in_bounded_queries(
        france, tmp_path, django_assert_max_num_queries, size):
    path = tmp_path / "leads.csv"
    path.write_text("email,country\n" + "".join(f"l{i}@example.com,FR\n" for i in range(size)))
    # (44: the webhooks step reads the subscriptions of the batch's lead.created events.)
    with django_assert_max_num_queries(44):
        report = import_path(path)
    assert report.created == size
    counts = Counter(Lead.objects.values_list("owner", flat=True))
    assert set(counts) == {p.pk for p in france}
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.usefixtures("_media_in_tmp")
@pytest.mark.parametrize("size", [10, 300])
def test_an_import_with_an_owner_column_assigns_in_bounded_queries(
        france, tmp_path, django_assert_max_num_queries, size):
    anne, bruno, _ = france
    path = tmp_path / "leads.csv"
    path.write_text("email,country,owner\n" + "".join(
        f"l{i}@example.com,FR,{(anne, bruno)[i % 2].username}\n" for i in range(size)))
    with django_assert_max_num_queries(42):
        report = import_path(path)
    assert report.created == size
    assert Lead.objects.filter(owner=anne).count() == (size + 1) // 2
    event = Lead.objects.get(email="l1@example.com").events.get(type=EventType.ASSIGNED)
    assert (event.properties["owner_id"], event.properties["reason"]) == (bruno.pk, "import")
