""""Hottest first" is a work list: closed deals (won, lost, disqualified) come after every
open lead whatever their score, on the page and in the API; a stage filter still finds them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead
from leadflow.leads.stages import CLOSED, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(db) -> dict[str, Lead]:
    made = {}
    for name, stage, score in (("Won", Stage.CUSTOMER, 99), ("Open40", Stage.MQL, 40),
                               ("Lost", Stage.LOST, 80), ("Open10", Stage.LEAD, 10),
                               ("Disq", Stage.DISQUALIFIED, 70)):
        lead, _ = upsert_lead({"email": f"{name.lower()}@example.com", "first_name": name},
                              route=False)
        Lead.objects.filter(pk=lead.pk).update(stage=stage, is_closed=stage in CLOSED,
                                               score=score)
        made[name] = lead
    return made


def names(response) -> list[str]:
    return re.findall(r'<td class="cell-name"><a href="/leads/\d+/">([^<]+)</a>',
                      response.content.decode())


def test_closed_leads_sort_after_open_ones(client, admin_user, leads):
    client.force_login(admin_user)
    assert names(client.get(reverse("leads:list"))) == ["Open40", "Open10", "Won", "Lost",
                                                        "Disq"]


def test_a_stage_filter_still_lists_closed_leads(client, admin_user, leads):
    client.force_login(admin_user)
    assert names(client.get(reverse("leads:list"), {"stage": "customer"})) == ["Won"]


def test_the_api_sorts_the_same_way(api, leads):
    rows = api.get("/leads", sort="-score").json()["items"]
    assert [r["first_name"] for r in rows] == ["Open40", "Open10", "Won", "Lost", "Disq"]
