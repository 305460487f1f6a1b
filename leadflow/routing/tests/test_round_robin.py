"""Routing: a rule picks the team, its reps take new leads in turn; who sees which lead."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from leadflow.accounts.models import Role, Team, User
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.routing.models import RoutingRule
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


@dataclass
class Org:
    france: Team
    export: Team
    anne: User
    bruno: User
    away: User
    full: User
    manager: User
    emma: User


@pytest.fixture
def org(make_user) -> Org:
    france = Team.objects.create(name="France")
    export = Team.objects.create(name="Export")
    org = Org(
        france=france, export=export,
        anne=make_user("anne", Role.SALES_REP, team=france),
        bruno=make_user("bruno", Role.SALES_REP, team=france),
        away=make_user("away", Role.SALES_REP, team=france, is_active=False),
        full=make_user("full", Role.SALES_REP, team=france, accepts_leads=False),
        manager=make_user("manon", Role.SALES_MANAGER, team=france),
        emma=make_user("emma", Role.SALES_REP, team=export),
    )
    # Created in the reverse order of their priorities: priority decides, not creation.
    RoutingRule.objects.create(name="Paid search", priority=20, team=export,
                               sources=["google", "bing"])
    RoutingRule.objects.create(name="France and Belgium", priority=10, team=france,
                               countries=["FR", "BE"])
    return org


def test_new_leads_go_round_robin_to_the_team_reps(org, make_lead):
    owners = [make_lead(f"l{i}@example.com", country="FR").owner for i in range(4)]
    assert owners == [org.anne, org.bruno, org.anne, org.bruno]


def test_the_turn_moves_on_even_when_the_clock_stands_still(org, make_lead):
    with clock.travel(datetime(2026, 5, 4, 9, 0, tzinfo=UTC)):
        owners = [make_lead(f"l{i}@example.com", country="FR").owner for i in range(5)]
    assert owners == [org.anne, org.bruno, org.anne, org.bruno, org.anne]


def test_inactive_reps_and_reps_not_accepting_leads_are_skipped(org, make_lead):
    owners = {make_lead(f"l{i}@example.com", country="BE").owner for i in range(6)}
    assert owners == {org.anne, org.bruno}
    assert not Lead.objects.filter(owner__in=[org.away, org.full, org.manager]).exists()


def test_the_first_matching_rule_by_priority_chooses_the_team(org, make_lead):
    # Matches both rules: the French one has the lower priority number, so it wins.
    lead = make_lead("fr-google@example.com", country="FR", source="google")
    assert lead.owner in (org.anne, org.bruno)
    assert lead.team_id == org.france.pk


def test_a_rule_by_source_routes_leads_from_that_source(org, make_lead):
    lead = make_lead("us@example.com", country="US", utm_source="bing")
    assert (lead.owner, lead.team_id) == (org.emma, org.export.pk)


def test_an_inactive_rule_is_ignored(org, make_lead):
    RoutingRule.objects.filter(team=org.france).update(active=False)
    lead = make_lead("fr@example.com", country="FR", source="google")
    assert lead.owner == org.emma


def test_the_assignment_is_recorded_as_an_assigned_event(org, make_lead):
    lead = make_lead("fr@example.com", country="FR")
    lead.refresh_from_db()
    assert lead.owner == org.anne and lead.assigned_at is not None
    event = lead.events.get(type="assigned")
    assert event.properties["owner_id"] == org.anne.pk
    assert event.properties["previous_owner_id"] is None
    assert "France" in event.properties["reason"]
    assert event.via == Event.Via.SYSTEM


def test_a_lead_no_rule_matches_stays_unassigned(org, make_lead):
    lead = make_lead("us@example.com", country="US", source="newsletter")
    lead.refresh_from_db()
    assert (lead.owner, lead.team, lead.assigned_at) == (None, None, None)
    assert not lead.events.filter(type="assigned").exists()


def test_a_team_without_an_available_rep_keeps_the_lead_for_the_team(org, make_lead):
    User.objects.filter(team=org.export, role=Role.SALES_REP).update(accepts_leads=False)
    lead = make_lead("us@example.com", country="US", source="google")
    lead.refresh_from_db()
    assert (lead.owner, lead.team_id) == (None, org.export.pk)


def test_an_updated_lead_keeps_its_owner(org, make_lead):
    first = make_lead("fr@example.com", country="FR")
    again = make_lead("fr@example.com", country="FR", title="CTO")
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.owner == org.anne
    assert again.events.filter(type="assigned").count() == 1
    # The round robin did not move on for the update.
    assert make_lead("next@example.com", country="FR").owner == org.bruno


def _listed_ids(api) -> set[int]:
    r = api.get("/leads", limit=100)
    assert r.status_code == 200, r.content
    return {item["id"] for item in r.json()["items"]}


@pytest.fixture
def spread(org, make_lead):
    """Two French leads (one each for Anne and Bruno), one export lead, one unassigned."""
    return {
        "anne": make_lead("a@example.com", country="FR"),
        "bruno": make_lead("b@example.com", country="FR"),
        "emma": make_lead("e@example.com", country="US", source="google"),
        "nobody": make_lead("n@example.com", country="US"),
    }


def test_a_rep_lists_only_their_own_leads(org, spread, api_for):
    assert _listed_ids(api_for(org.anne)) == {spread["anne"].pk}
    assert _listed_ids(api_for(org.emma)) == {spread["emma"].pk}


def test_a_sales_manager_lists_the_team_leads(org, spread, api_for):
    assert _listed_ids(api_for(org.manager)) == {spread["anne"].pk, spread["bruno"].pk}


@pytest.mark.parametrize("role", [Role.MARKETING, Role.ADMIN])
def test_marketing_and_admins_list_every_lead(org, spread, make_user, api_for, role):
    user = make_user("someone", role)
    assert _listed_ids(api_for(user)) == {lead.pk for lead in spread.values()}


def test_a_rep_gets_404_for_a_lead_of_someone_else(org, spread, api_for):
    anne = api_for(org.anne)
    assert anne.get(f"/leads/{spread['anne'].pk}").status_code == 200
    for other in ("bruno", "emma", "nobody"):
        for path in (f"/leads/{spread[other].pk}", f"/leads/{spread[other].pk}/timeline"):
            r = anne.get(path)
            assert r.status_code == 404, path
            assert "message" in r.json()


def test_a_sales_manager_gets_404_for_a_lead_of_another_team(org, spread, api_for):
    manager = api_for(org.manager)
    assert manager.get(f"/leads/{spread['bruno'].pk}").status_code == 200
    assert manager.get(f"/leads/{spread['emma'].pk}").status_code == 404
