"""The leads list page (/leads/): visibility, search, filters, sort, pages, htmx, speed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead
from leadflow.lifecycle.services import change_stage
from leadflow.routing.services import assign_lead

pytestmark = pytest.mark.django_db
LIST = reverse("leads:list")


def lead(email: str, owner=None, **fields) -> Lead:
    """A lead created through the service, assigned to `owner` when given."""
    created, _ = upsert_lead({"email": email, **fields}, route=False)
    if owner is not None:
        assign_lead(created, owner)
    return created


def names_in(response) -> list[str]:
    """The lead names of the table, in order."""
    return re.findall(r'<td class="cell-name"><a href="/leads/\d+/">([^<]+)</a>',
                      response.content.decode())


@pytest.fixture
def rep(make_user):
    return make_user("rita")


@pytest.fixture
def other_rep(make_user):
    return make_user("oscar")


def test_list_requires_login(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_rep_sees_only_own_leads_in_list(client, rep, other_rep):
    lead("mine@example.com", rep, first_name="Mine")
    lead("theirs@example.com", other_rep, first_name="Theirs")
    lead("nobody@example.com", first_name="Nobody")
    client.force_login(rep)
    response = client.get(LIST)
    assert response.status_code == 200
    assert names_in(response) == ["Mine"]


def test_admin_sees_all_leads_in_list(client, admin_user, rep, other_rep):
    lead("mine@example.com", rep, first_name="Mine")
    lead("theirs@example.com", other_rep, first_name="Theirs")
    lead("nobody@example.com", first_name="Nobody")
    client.force_login(admin_user)
    response = client.get(LIST)
    assert sorted(names_in(response)) == ["Mine", "Nobody", "Theirs"]
    assert "3 leads" in response.content.decode()


def test_list_shows_columns_of_each_lead(client, rep):
    lead("ana@acme.example", rep, first_name="Ana", last_name="Lima",
         company_name="Acme", source="google")
    client.force_login(rep)
    body = client.get(LIST).content.decode()
    row = body[body.index("Ana Lima"):]
    row = row[:row.index("</tr>")]
    for expected in ("ana@acme.example", "Acme", 'class="badge stage-lead"', "Lead", "google",
                     "rita", "just now"):
        assert expected in row


def test_last_touch_reads_as_time_ago(client, rep):
    created, _ = upsert_lead({"email": "old@example.com", "first_name": "Old"}, route=False,
                             occurred_at=timezone.now() - timedelta(days=3, hours=2))
    assign_lead(created, rep)
    Lead.objects.filter(pk=created.pk).update(last_touch_at=created.last_touch_at)
    client.force_login(rep)
    assert "3\xa0days, 2\xa0hours ago" in client.get(LIST).content.decode()


def test_search_matches_name_email_or_company(client, admin_user):
    lead("ana@example.com", first_name="Ana")
    lead("bob@globex.example", first_name="Bob")
    lead("cy@example.com", first_name="Cy", company_name="Initech")
    client.force_login(admin_user)
    assert names_in(client.get(LIST, {"q": "ana"})) == ["Ana"]
    assert names_in(client.get(LIST, {"q": "globex"})) == ["Bob"]
    assert names_in(client.get(LIST, {"q": "initech"})) == ["Cy"]


def test_stage_filter_shows_only_that_stage(client, admin_user):
    lead("ana@example.com", first_name="Ana")
    hot = lead("bob@example.com", first_name="Bob")
    change_stage(hot, "mql", reason="test")
    client.force_login(admin_user)
    assert names_in(client.get(LIST, {"stage": "mql"})) == ["Bob"]


def test_owner_filter_unassigned_shows_leads_without_owner(client, admin_user, rep):
    lead("ana@example.com", rep, first_name="Ana")
    lead("bob@example.com", first_name="Bob")
    client.force_login(admin_user)
    assert names_in(client.get(LIST, {"owner": "none"})) == ["Bob"]
    assert names_in(client.get(LIST, {"owner": str(rep.pk)})) == ["Ana"]


def test_owner_choices_are_owners_of_visible_leads(client, rep, other_rep, make_user):
    idle = make_user("idle")
    lead("mine@example.com", rep)
    lead("theirs@example.com", other_rep)
    client.force_login(rep)
    body = client.get(LIST).content.decode()
    owner_select = body[body.index('name="owner"'):]
    owner_select = owner_select[:owner_select.index("</select>")]
    assert f'value="{rep.pk}"' in owner_select
    assert f'value="{other_rep.pk}"' not in owner_select
    assert f'value="{idle.pk}"' not in owner_select
    assert 'value="none"' in owner_select


def test_source_filter_and_choices(client, admin_user):
    lead("ana@example.com", first_name="Ana", source="google")
    lead("bob@example.com", first_name="Bob", source="linkedin")
    client.force_login(admin_user)
    response = client.get(LIST, {"source": "linkedin"})
    assert names_in(response) == ["Bob"]
    body = response.content.decode()
    assert '<option value="google">google</option>' in body
    assert '<option value="linkedin" selected>linkedin</option>' in body


def test_sort_by_name_orders_by_last_name(client, admin_user):
    lead("z@example.com", first_name="Zoe", last_name="Adams")
    lead("a@example.com", first_name="Al", last_name="Young")
    lead("m@example.com", first_name="Mo", last_name="Moss")
    client.force_login(admin_user)
    assert names_in(client.get(LIST, {"sort": "name"})) == ["Zoe Adams", "Mo Moss", "Al Young"]


def test_sort_by_score_puts_hottest_first(client, admin_user):
    for i, score in enumerate((5, 40, 12)):
        created = lead(f"l{i}@example.com", first_name=f"Score{score}")
        Lead.objects.filter(pk=created.pk).update(score=score)
    client.force_login(admin_user)
    assert names_in(client.get(LIST)) == ["Score40", "Score12", "Score5"]


def test_unknown_sort_shows_message_with_422(client, admin_user):
    client.force_login(admin_user)
    response = client.get(LIST, {"sort": "shoe-size"})
    assert response.status_code == 422
    assert 'class="msg msg-error"' in response.content.decode()
    assert "sort must be one of" in response.content.decode()


def test_list_shows_50_leads_per_page_with_page_links(client, admin_user):
    for i in range(53):
        lead(f"lead{i:02d}@example.com", first_name=f"Lead{i:02d}")
    client.force_login(admin_user)
    first = client.get(LIST, {"sort": "newest"})
    assert len(names_in(first)) == 50
    assert "53 leads" in first.content.decode()
    assert 'href="?sort=newest&amp;page=2"' in first.content.decode()
    second = client.get(LIST, {"sort": "newest", "page": "2"})
    assert names_in(second) == ["Lead02", "Lead01", "Lead00"]
    assert 'aria-current="page">2<' in second.content.decode()


def test_htmx_request_returns_only_the_results(client, admin_user):
    lead("ana@example.com", first_name="Ana")
    lead("bob@example.com", first_name="Bob")
    client.force_login(admin_user)
    response = client.get(LIST, {"q": "bob"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert names_in(response) == ["Bob"]
    assert "<html" not in body and 'name="q"' not in body
    assert "HX-Request" in response["Vary"]


def test_filter_form_updates_results_with_htmx(client, admin_user):
    client.force_login(admin_user)
    body = client.get(LIST).content.decode()
    form = body[body.index('<form class="filters'):]
    form = form[:form.index(">")]
    assert 'hx-get="/leads/"' in form
    assert 'hx-target="#lead-results"' in form
    assert 'hx-push-url="true"' in form
    assert '<div id="lead-results"' in body
    assert "/static/django_htmx/htmx-2.min.js" in body


def test_list_query_count_does_not_grow_with_leads(client, admin_user, make_user,
                                                  django_assert_max_num_queries):
    owners = [make_user(f"owner{i}") for i in range(3)]
    for i in range(60):
        created, _ = upsert_lead({"email": f"q{i}@example.com", "first_name": f"Q{i}",
                                  "source": f"src{i % 4}"}, route=False)
        Lead.objects.filter(pk=created.pk).update(owner=owners[i % 3])
    client.force_login(admin_user)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert len(names_in(response)) == 50
    with django_assert_max_num_queries(8):
        client.get(LIST, {"page": "2", "owner": str(owners[0].pk), "sort": "last_touch"})


def test_nav_shows_admin_link_only_to_staff(client, rep, admin_user):
    client.force_login(rep)
    assert 'href="/admin/"' not in client.get(LIST).content.decode()
    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get(LIST).content.decode()


def test_nav_links_reports_and_api_docs_and_logs_out_by_post(client, rep):
    client.force_login(rep)
    body = client.get(LIST).content.decode()
    assert 'href="/reports/"' in body
    assert 'href="/api/v1/docs"' in body
    assert re.search(r'<form action="/logout/" method="post"', body)
    assert re.search(r'<form class="langswitch" action="/i18n/setlang/" method="post"', body)


def test_sales_manager_sees_team_leads(client, make_user):
    from leadflow.accounts.services import create_team

    team = create_team("North")
    manager = make_user("mia", Role.SALES_MANAGER, team=team)
    member = make_user("max", team=team)
    outsider = make_user("out")
    lead("team@example.com", member, first_name="Team")
    lead("outside@example.com", outsider, first_name="Outside")
    client.force_login(manager)
    assert names_in(client.get(LIST)) == ["Team"]
