"""Handing a lead to another owner from the lead page, as the role allows: admins and
marketing to anyone, a sales manager within their team, a rep to nobody."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadflow.accounts.models import Role, Team
from leadflow.core.errors import Forbidden, NotFound
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead
from leadflow.routing.services import assign_lead, reassign_lead
from leadflow.tracking.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    return {"manager": make_user("mona", Role.SALES_MANAGER, team=north),
            "rita": make_user("rita", team=north), "nils": make_user("nils", team=north),
            "sven": make_user("sven", team=south)}


@pytest.fixture
def lead(people) -> Lead:
    lead, _ = upsert_lead({"email": "ana@example.com", "first_name": "Ana"}, route=False)
    assign_lead(lead, people["rita"])
    lead.refresh_from_db()
    return lead


def test_a_manager_hands_a_lead_to_a_team_member(client, lead, people):
    client.force_login(people["manager"])
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="change-owner"' in page and "sven" not in page
    response = client.post(reverse("routing:change_owner", args=[lead.pk]),
                           {"owner": people["nils"].pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == people["nils"]
    event = Event.objects.filter(lead=lead, type=EventType.ASSIGNED).latest("id")
    assert event.actor == people["manager"]


def test_a_manager_may_not_hand_it_outside_the_team(lead, people):
    with pytest.raises(Forbidden):
        reassign_lead(lead, people["sven"].pk, actor=people["manager"])


def test_a_rep_sees_no_owner_form_and_may_not_reassign(client, lead, people):
    client.force_login(people["rita"])
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="change-owner"' not in page
    response = client.post(reverse("routing:change_owner", args=[lead.pk]),
                           {"owner": people["nils"].pk})
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.owner == people["rita"]


def test_someone_outside_the_scope_gets_404(lead, people):
    with pytest.raises(NotFound):
        reassign_lead(lead, people["sven"].pk, actor=people["sven"])


def test_an_admin_hands_it_to_anyone(lead, people, admin_user):
    reassign_lead(lead, people["sven"].pk, actor=admin_user)
    lead.refresh_from_db()
    assert (lead.owner, lead.team.name) == (people["sven"], "South")
