"""The home page (/): new leads today and this week in the user's time zone, the hot leads
waiting, leads per day over 30 days, all within the user's scope, in a few queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.analytics.home import home as home_figures
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle import stages

pytestmark = pytest.mark.django_db
HOME = reverse("home")
# Wednesday 2 December 2026, 11:30 UTC: 00:30 on Thursday 3 December in Auckland (UTC+13).
NOW = datetime(2026, 12, 2, 11, 30, tzinfo=UTC)


def lead_at(when: datetime, email: str, owner=None, **fields) -> Lead:
    with clock.travel(when):
        lead, _ = upsert_lead({"email": email, **fields}, route=False)
    if owner is not None:
        Lead.objects.filter(pk=lead.pk).update(owner=owner)
    return lead


def stat(response, name: str) -> int:
    found = re.search(rf'data-stat="{name}">(\d+)<', response.content.decode())
    assert found, name
    return int(found.group(1))


@pytest.fixture
def kiwi(make_user):
    """An admin who works from Auckland."""
    return make_user("kiri", Role.ADMIN, time_zone="Pacific/Auckland")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_today_and_this_week_count_from_midnight_in_the_users_zone(client, kiwi):
    # 11:00 UTC on 2 Dec is 00:00 on 3 Dec in Auckland: today there.
    lead_at(datetime(2026, 12, 2, 11, 5, tzinfo=UTC), "after-midnight@example.com")
    # 10:55 UTC is 23:55 on 2 Dec in Auckland: yesterday there, today in UTC.
    lead_at(datetime(2026, 12, 2, 10, 55, tzinfo=UTC), "before-midnight@example.com")
    # Monday 30 Nov 00:10 in Auckland (29 Nov 11:10 UTC): this week there.
    lead_at(datetime(2026, 11, 29, 11, 10, tzinfo=UTC), "monday@example.com")
    # Sunday 29 Nov 23:50 in Auckland: last week.
    lead_at(datetime(2026, 11, 29, 10, 50, tzinfo=UTC), "sunday@example.com")
    client.force_login(kiwi)
    with clock.travel(NOW):
        response = client.get(HOME)
    assert response.status_code == 200
    assert stat(response, "today") == 1
    assert stat(response, "week") == 3


def test_the_same_leads_count_differently_for_a_user_in_utc(client, make_user):
    lead_at(datetime(2026, 12, 2, 11, 5, tzinfo=UTC), "after-midnight@example.com")
    lead_at(datetime(2026, 12, 2, 10, 55, tzinfo=UTC), "before-midnight@example.com")
    lead_at(datetime(2026, 11, 29, 11, 10, tzinfo=UTC), "sunday-utc@example.com")
    client.force_login(make_user("uma", Role.ADMIN))
    with clock.travel(NOW):
        response = client.get(HOME)
    assert stat(response, "today") == 2
    assert stat(response, "week") == 2  # the week began on Monday 30 Nov in UTC


def test_a_rep_counts_only_their_own_leads(client, make_user):
    rep, other = make_user("rita"), make_user("otto")
    lead_at(NOW - timedelta(hours=1), "mine@example.com", owner=rep)
    lead_at(NOW - timedelta(hours=1), "theirs@example.com", owner=other)
    lead_at(NOW - timedelta(hours=1), "nobody@example.com")
    hot = lead_at(NOW - timedelta(days=3), "hot-theirs@example.com", owner=other)
    Lead.objects.filter(pk=hot.pk).update(stage=Stage.MQL, score=90)
    client.force_login(rep)
    with clock.travel(NOW):
        response = client.get(HOME)
    assert stat(response, "today") == 1
    assert stat(response, "week") == 1
    assert stat(response, "hot") == 0
    assert "hot-theirs@example.com" not in response.content.decode()


def test_hot_leads_waiting_are_the_qualified_ones_highest_score_first(client, admin_user):
    leads = {}
    for email, stage, score in (("mql@example.com", Stage.MQL, 40),
                                ("sal@example.com", Stage.SAL, 70),
                                ("won@example.com", Stage.CUSTOMER, 99),
                                ("new@example.com", Stage.LEAD, 95),
                                ("sql@example.com", Stage.SQL, 80)):
        leads[email] = lead_at(NOW - timedelta(days=2), email, first_name=email.split("@")[0])
        Lead.objects.filter(pk=leads[email].pk).update(stage=stage, score=score)
    client.force_login(admin_user)
    with clock.travel(NOW):
        response = client.get(HOME)
    body = response.content.decode()
    section = body[body.index('id="hot-leads"'):body.index('id="leads-chart"')]
    assert re.findall(r'<a href="/leads/(\d+)/">', section) == [
        str(leads["sal@example.com"].pk), str(leads["mql@example.com"].pk)]
    assert stat(response, "hot") == 2


def test_the_chart_has_one_bar_per_day_in_the_users_zone(kiwi):
    lead_at(datetime(2026, 12, 2, 11, 5, tzinfo=UTC), "a@example.com")  # 3 Dec there
    lead_at(datetime(2026, 12, 2, 10, 55, tzinfo=UTC), "b@example.com")  # 2 Dec there
    lead_at(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "c@example.com")  # 2 Dec there
    lead_at(datetime(2026, 10, 1, 12, 0, tzinfo=UTC), "old@example.com")  # before the chart
    from zoneinfo import ZoneInfo

    with clock.travel(NOW):
        figures = home_figures(kiwi, ZoneInfo("Pacific/Auckland"))
    assert len(figures.days) == 30
    assert figures.days[-1].day.isoformat() == "2026-12-03"
    assert figures.days[0].day.isoformat() == "2026-11-04"
    counts = {d.day.isoformat(): d.leads for d in figures.days if d.leads}
    assert counts == {"2026-12-03": 1, "2026-12-02": 2}
    assert figures.chart_total == 3


def test_the_chart_is_drawn_on_the_server(client, admin_user):
    lead_at(NOW - timedelta(hours=2), "a@example.com")
    client.force_login(admin_user)
    with clock.travel(NOW):
        body = client.get(HOME).content.decode()
    assert body.count("<rect ") == 30
    assert 'data-day="2026-12-02" data-leads="1"' in body
    assert "<script" not in body.split("</head>")[1]


def test_the_page_takes_a_few_queries_whatever_the_leads(client, admin_user,
                                                         django_assert_max_num_queries):
    for i in range(40):
        lead = lead_at(NOW - timedelta(days=i % 20, hours=1), f"l{i}@example.com")
        if i % 4 == 0:
            Lead.objects.filter(pk=lead.pk).update(stage=Stage.MQL, score=i, owner=admin_user)
    client.force_login(admin_user)
    stages.definitions()  # the stage names: a per-process cache, read once, not per page
    with clock.travel(NOW), django_assert_max_num_queries(6):
        response = client.get(HOME)
    assert response.status_code == 200


def test_home_is_in_the_navigation(client, admin_user):
    client.force_login(admin_user)
    body = client.get(reverse("leads:list")).content.decode()
    assert f'<a href="{HOME}">Home</a>' in body
