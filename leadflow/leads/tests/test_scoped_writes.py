"""Scoped writes: a write that matches a lead outside the writer's scope (a rep, another
rep's lead) changes nothing and answers none of its fields; what was submitted becomes one
`change_proposed` event that the lead's owner reads on the lead page."""

from __future__ import annotations

import pytest
from django.test import Client

from leadflow.accounts.models import Role, Team
from leadflow.leads.models import Lead
from leadflow.routing.services import assign_lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def oscars_lead(make_user, make_lead):
    lead = make_lead("ana@example.com", external_id="crm-1", first_name="Ana",
                     phone="+33612345678")
    assign_lead(lead, make_user("oscar", Role.SALES_REP))
    return Lead.objects.get(pk=lead.pk)


@pytest.fixture
def rita(make_user):
    return make_user("rita", Role.SALES_REP)


def _unchanged(lead: Lead) -> None:
    now = Lead.objects.get(pk=lead.pk)
    assert (now.first_name, now.phone, now.owner_id, now.updated_at) == (
        lead.first_name, lead.phone, lead.owner_id, lead.updated_at)


@pytest.mark.parametrize("match", [{"email": "ANA@example.com"}, {"external_id": "crm-1"}])
def test_a_rep_posting_another_reps_lead_gets_409_and_changes_nothing(
        api_for, rita, oscars_lead, match):
    resp = api_for(rita).post("/leads", {**match, "first_name": "Mallory",
                                         "phone": "+33699999999"})

    assert resp.status_code == 409
    body = resp.json()
    assert body["message"] == "This lead is handled by another rep."
    assert "+33612345678" not in resp.content.decode() and "phone" not in body
    assert "id" not in body and "owner_id" not in body
    _unchanged(oscars_lead)


def test_the_owner_is_told_on_the_lead_page_who_proposed_what(
        api_for, rita, oscars_lead):
    api_for(rita).post("/leads", {"email": "ana@example.com", "first_name": "Mallory"})

    proposal = Event.objects.get(type="change_proposed")
    assert (proposal.lead_id, proposal.actor, proposal.via) == (oscars_lead.pk, rita, "api")
    assert proposal.properties["values"] == {"email": "ana@example.com",
                                             "first_name": "Mallory"}
    owner = Client()
    owner.force_login(oscars_lead.owner)
    page = owner.get(f"/leads/{oscars_lead.pk}/").content.decode()
    assert "Change proposed by rita" in page and "first_name: Mallory" in page


def test_bulk_rows_matching_another_reps_lead_are_conflicts_without_an_id(
        api_for, rita, oscars_lead):
    body = api_for(rita).post("/leads/bulk", {"leads": [
        {"email": "ana@example.com", "first_name": "Mallory"},
        {"email": "new@example.com", "first_name": "New"},
    ]}).json()

    assert [(r["status"], r["id"]) for r in body["results"]][0] == ("conflict", None)
    assert body["results"][0]["message"] == "This lead is handled by another rep."
    assert (body["conflicts"], body["created"], body["updated"]) == (1, 1, 0)
    _unchanged(oscars_lead)
    assert Event.objects.filter(type="change_proposed", lead=oscars_lead).count() == 1


def test_a_rep_updates_their_own_lead(api_for, rita, make_lead):
    assign_lead(make_lead("ana@example.com"), rita)

    resp = api_for(rita).post("/leads", {"email": "ana@example.com", "first_name": "Ana"})

    assert resp.status_code == 200 and resp.json()["first_name"] == "Ana"


def test_a_sales_manager_writes_the_teams_leads(api_for, make_user, make_lead):
    team = Team.objects.create(name="France")
    boss = make_user("sam", Role.SALES_MANAGER, team=team)
    lead = make_lead("ana@example.com")
    assign_lead(lead, make_user("oscar", Role.SALES_REP, team=team))

    resp = api_for(boss).post("/leads", {"email": "ana@example.com", "first_name": "Ana"})

    assert resp.status_code == 200
    assert Lead.objects.get().first_name == "Ana"


def test_quick_add_of_another_reps_lead_says_so_and_tells_the_owner(rita, oscars_lead):
    client = Client()
    client.force_login(rita)

    resp = client.post("/capture/quick-add/", {"email": "ana@example.com",
                                               "first_name": "Mallory", "channel": "event",
                                               "note": "Met at booth 12"}, follow=True)

    page = resp.content.decode()
    assert "handled by another rep" in page and "Its owner has been told" in page
    assert "+33612345678" not in page
    _unchanged(oscars_lead)
    proposal = Event.objects.get(type="change_proposed")
    assert proposal.properties["note"] == "Met at booth 12"
    assert proposal.properties["values"]["first_name"] == "Mallory"
    assert not Event.objects.filter(type="note").exists()
