"""The reports page (/reports/): totals, conversion, leads per stage and per source."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from leadflow.leads.services import upsert_lead
from leadflow.lifecycle.services import change_stage, mark_outcome
from leadflow.routing.services import assign_lead

pytestmark = pytest.mark.django_db
REPORTS = reverse("analytics:reports")


def lead(email: str, source: str = "", owner=None):
    created, _ = upsert_lead({"email": email, "source": source}, route=False)
    if owner is not None:
        assign_lead(created, owner)
    return created


def row(body: str, first_cell: str) -> list[str]:
    """The cells of the table row that starts with `first_cell`."""
    start = body.index(first_cell)
    tr = body[body.rindex("<tr>", 0, start):body.index("</tr>", start)]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr,
                                                                   re.S)]


@pytest.fixture
def leads(make_user):
    """Four from google (one won, one lost), one from linkedin (won), one without source."""
    google = [lead(f"g{i}@example.com", "google") for i in range(4)]
    mark_outcome(google[0], "won")
    mark_outcome(google[1], "lost")
    change_stage(google[2], "mql")
    linkedin = lead("l@example.com", "linkedin")
    mark_outcome(linkedin, "won")
    lead("none@example.com")
    return google + [linkedin]


def test_reports_require_login(client):
    response = client.get(REPORTS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_reports_show_totals_and_conversion_rate(client, admin_user, leads):
    client.force_login(admin_user)
    response = client.get(REPORTS)
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'data-stat="total">6<', body)
    assert re.search(r'data-stat="won">2<', body)
    assert re.search(r'data-stat="lost">1<', body)
    assert re.search(r'data-stat="conversion">33.3%<', body)


def test_reports_count_leads_per_stage(client, admin_user, leads):
    client.force_login(admin_user)
    body = client.get(REPORTS).content.decode()
    assert row(body, ">Lead<")[:3] == ["Lead", "2", "33.3%"]
    assert row(body, ">MQL<")[:3] == ["MQL", "1", "16.7%"]
    assert row(body, ">Customer<")[:3] == ["Customer", "2", "33.3%"]
    assert row(body, ">Nurture<")[:3] == ["Nurture", "0", "0.0%"]


def test_reports_show_won_lost_and_conversion_per_source(client, admin_user, leads):
    client.force_login(admin_user)
    body = client.get(REPORTS).content.decode()
    assert row(body, ">google<")[:5] == ["google", "4", "1", "1", "25.0%"]
    assert row(body, ">linkedin<")[:5] == ["linkedin", "1", "1", "0", "100.0%"]
    assert row(body, "(no source)")[:5] == ["(no source)", "1", "0", "0", "0.0%"]


def test_reports_draw_bars_relative_to_the_largest_row(client, admin_user, leads):
    client.force_login(admin_user)
    body = client.get(REPORTS).content.decode()
    assert 'class="bar bar-source" style="width: 100.0%"' in body  # google, 4 leads
    assert 'class="bar bar-source" style="width: 25.0%"' in body  # linkedin, 1 lead


def test_bar_widths_stay_valid_css_in_french(client, admin_user, leads):
    client.force_login(admin_user)
    body = client.get(REPORTS, headers={"Accept-Language": "fr"}).content.decode()
    assert 'style="width: 25.0%"' in body
    assert "Taux de conversion" in body


def test_rep_reports_cover_only_own_leads(client, make_user, leads):
    rep = make_user("rita")
    mine = lead("mine@example.com", "webinar", owner=rep)
    mark_outcome(mine, "won")
    client.force_login(rep)
    body = client.get(REPORTS).content.decode()
    assert re.search(r'data-stat="total">1<', body)
    assert re.search(r'data-stat="conversion">100.0%<', body)
    assert ">google<" not in body
    assert row(body, ">webinar<")[:5] == ["webinar", "1", "1", "0", "100.0%"]


def test_reports_with_no_leads_show_zero(client, admin_user):
    client.force_login(admin_user)
    body = client.get(REPORTS).content.decode()
    assert re.search(r'data-stat="total">0<', body)
    assert re.search(r'data-stat="conversion">0.0%<', body)
    assert "No leads yet." in body
