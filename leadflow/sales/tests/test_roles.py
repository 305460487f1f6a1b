"""Who may work on which lead, through the API and the lead page: a rep their own leads, a
sales manager their team's, an admin all. A lead outside the caller's scope is a 404 for
every read and write (never a 403 that would reveal it), and nothing is written."""

from datetime import timedelta

import pytest
from django.test import Client

from leadflow.accounts.models import Role, Team
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.sales.followups import create_task
from leadflow.sales.models import Opportunity, Task
from leadflow.sales.services import open_opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, admin_user):
    east, west = Team.objects.create(name="East"), Team.objects.create(name="West")
    return {
        "rep": make_user("rita", Role.SALES_REP, team=east),
        "peer": make_user("pete", Role.SALES_REP, team=east),
        "manager": make_user("mia", Role.SALES_MANAGER, team=east),
        "stranger": make_user("wes", Role.SALES_MANAGER, team=west),
        "admin": admin_user,
    }


@pytest.fixture
def lead(make_lead, people):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=people["rep"], team_id=people["rep"].team_id)
    lead.refresh_from_db()
    return lead


def _writes(api, lead, task, opp):
    due = (clock.now() + timedelta(days=1)).isoformat()
    return {
        "activities": api.post(f"/leads/{lead.pk}/activities", {"kind": "note", "text": "x"}),
        "tasks": api.post(f"/leads/{lead.pk}/tasks", {"title": "x", "due_at": due}),
        "opportunities": api.post(f"/leads/{lead.pk}/opportunities",
                                  {"name": "x", "value": "1", "currency": "EUR"}),
        "task change": api.client.patch(f"/api/v1/tasks/{task.pk}", {"title": "mine now"},
                                        content_type="application/json", **api.auth),
        "close": api.post(f"/leads/{lead.pk}/opportunities/{opp.pk}/close", {"stage": "won"}),
    }


@pytest.mark.parametrize(("who", "allowed"), [
    ("rep", True), ("manager", True), ("admin", True), ("peer", False), ("stranger", False),
])
def test_each_role_works_on_the_leads_in_its_scope_only_through_the_api(
        api_for, people, lead, who, allowed):
    task = create_task(lead, actor=people["rep"], title="Call",
                       due_at=clock.now() + timedelta(days=1))
    opp = open_opportunity(lead, actor=people["rep"], name="Deal", value="5", currency="EUR")
    api = api_for(people[who])
    reads = [api.get(f"/leads/{lead.pk}/{what}").status_code
             for what in ("activities", "tasks", "opportunities")]
    answers = _writes(api, lead, task, opp)
    if allowed:
        assert reads == [200, 200, 200]
        assert {k: a.status_code for k, a in answers.items()} == {
            "activities": 201, "tasks": 201, "opportunities": 201, "task change": 200,
            "close": 200}
    else:
        assert reads == [404, 404, 404]
        assert {k: a.status_code for k, a in answers.items()} == dict.fromkeys(answers, 404)
        assert all("ana" not in a.content.decode() for a in answers.values())
        assert not lead.events.filter(type="note").exists()
        assert Task.objects.get().title == "Call" and Task.objects.count() == 1
        assert Opportunity.objects.get().stage == "open"
        assert api.get("/tasks").json() == []


@pytest.mark.parametrize(("who", "status"), [
    ("rep", 302), ("manager", 302), ("admin", 302), ("peer", 404), ("stranger", 404),
])
def test_each_role_works_on_the_leads_in_its_scope_only_through_the_page(
        people, lead, who, status):
    client = Client()
    client.force_login(people[who])
    page = client.get(f"/leads/{lead.pk}/")
    assert page.status_code == (200 if status == 302 else 404)
    logged = client.post(f"/leads/{lead.pk}/activities",
                         {"kind": "note", "text": "From the page"})
    assert logged.status_code == status
    assert lead.events.filter(type="note").exists() == (status == 302)
