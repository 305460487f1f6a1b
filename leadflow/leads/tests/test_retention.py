"""Retention: leads idle for LEADFLOW_RETENTION_DAYS are listed to admins (page and API)
and erased after an admin confirms, or by the worker in "auto" mode."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from leadflow.accounts.models import Role
from leadflow.core import clock, periodic
from leadflow.leads.models import ErasureRecord, Lead
from leadflow.leads.privacy import erase_leads
from leadflow.lifecycle.services import change_stage, mark_outcome
from leadflow.tracking.models import Event
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

YEAR = timedelta(days=365)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the automatic job remembers in the cache when it last looked


@pytest.fixture
def leads(make_lead):
    """old: idle 4 years (due); revived: old but a page view last year; customer and deal:
    old, won or an open opportunity; recent: created today."""
    with clock.travel(clock.now() - 4 * YEAR):
        made = {name: make_lead(f"{name}@example.org", first_name=name.title())
                for name in ("old", "revived", "customer", "deal")}
        mark_outcome(made["customer"], "won")
        change_stage(made["deal"], "opportunity")
    with clock.travel(clock.now() - YEAR):
        record_event("page_view", lead=made["revived"])
    made["recent"] = make_lead("recent@example.org", first_name="Recent")
    return made


def erased(*names: str) -> set[str]:
    return {e for e in names if Lead.objects.filter(first_name=e.title()).count() == 0}


def test_the_leads_idle_longer_than_the_policy_are_due(api, leads):
    body = api.get("/leads/retention").json()

    assert (body["days"], body["mode"], body["count"]) == (1095, "confirm", 1)
    assert [(d["id"], d["name"], d["email"]) for d in body["leads"]] == [
        (leads["old"].pk, "Old", "old@example.org")]


def test_the_policy_length_comes_from_the_settings(api, leads, settings):
    settings.LEADFLOW_RETENTION_DAYS = 300
    emails = {d["email"] for d in api.get("/leads/retention").json()["leads"]}
    assert emails == {"old@example.org", "revived@example.org"}


def test_admins_see_the_page_from_the_navigation_and_confirm_the_erasure(client, admin_user,
                                                                         leads):
    client.force_login(admin_user)
    assert b'href="/leads/retention/"' in client.get("/leads/").content
    page = client.get("/leads/retention/")
    assert page.status_code == 200
    assert b"old@example.org" in page.content and b"recent@example.org" not in page.content
    cutoff = page.context["policy"].cutoff.isoformat()

    r = client.post("/leads/retention/", {"cutoff": cutoff})

    assert r.status_code == 302
    assert erased("old", "revived", "customer", "deal", "recent") == {"old"}
    record = ErasureRecord.objects.get()
    assert (record.lead_id, record.actor) == (leads["old"].pk, admin_user)


def test_a_lead_active_since_the_list_was_shown_is_kept(api, leads):
    cutoff = api.get("/leads/retention").json()["cutoff"]
    record_event("form_submitted", lead=leads["old"])

    r = api.post("/leads/retention/erase", {"cutoff": cutoff})

    assert r.json() == {"erased": 0}
    assert not erased("old")


def test_a_cutoff_that_would_erase_leads_not_yet_due_is_refused(api, leads):
    r = api.post("/leads/retention/erase", {"cutoff": clock.now().isoformat()})

    assert r.status_code == 422 and r.json()["field"] == "cutoff"
    r = api.post("/leads/retention/erase", {"cutoff": "2020-01-01T00:00:00"})
    assert r.status_code == 422 and "time zone" in r.json()["message"]
    assert not ErasureRecord.objects.exists()


def test_a_cutoff_with_an_offset_the_database_refuses_is_read_in_utc(api, leads):
    # Python allows offsets up to 23:59, PostgreSQL up to 15:59: no 500 either way.
    r = api.post("/leads/retention/erase", {"cutoff": "0082-02-17T12:12:08+18:30"})
    assert r.status_code == 200 and r.json() == {"erased": 0}


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETING])
def test_only_admins_see_or_confirm_retention(client, api_for, make_user, leads, role):
    user = make_user("someone", role)
    client.force_login(user)
    assert b"/leads/retention/" not in client.get("/leads/").content
    assert client.get("/leads/retention/").status_code == 403
    cutoff = (clock.now() - 4 * YEAR).isoformat()
    assert client.post("/leads/retention/", {"cutoff": cutoff}).status_code == 403
    api = api_for(user)
    assert api.get("/leads/retention").status_code == 403
    assert api.post("/leads/retention/erase", {"cutoff": cutoff}).status_code == 403
    assert not ErasureRecord.objects.exists()


def test_a_cutoff_that_is_no_date_is_refused_on_the_page_after_the_permission_check(
        client, admin_user, make_user, leads):
    client.force_login(make_user("rep"))
    assert client.post("/leads/retention/", {"cutoff": "2020-02-30T00:00:00Z"}).status_code == 403
    client.force_login(admin_user)

    r = client.post("/leads/retention/", {"cutoff": "2020-02-30T00:00:00Z"})

    assert r.status_code == 422 and "cutoff" in r.content.decode()
    assert not ErasureRecord.objects.exists()


def test_auto_mode_erases_the_due_leads_on_the_worker_tick(settings, leads):
    settings.LEADFLOW_RETENTION_MODE = "auto"

    periodic.tick()

    assert erased("old", "revived", "customer", "deal", "recent") == {"old"}
    assert ErasureRecord.objects.get().actor is None


@pytest.mark.parametrize("mode", ["confirm", "off"])
def test_other_modes_erase_nothing_on_the_worker_tick(settings, leads, mode):
    settings.LEADFLOW_RETENTION_MODE = mode
    periodic.tick()
    assert not ErasureRecord.objects.exists()


def test_off_mode_lists_but_refuses_to_erase(api, settings, leads):
    settings.LEADFLOW_RETENTION_MODE = "off"
    cutoff = api.get("/leads/retention").json()["cutoff"]

    r = api.post("/leads/retention/erase", {"cutoff": cutoff})

    assert r.status_code == 409
    assert not erased("old")


def _idle_leads(make_lead, count: int) -> list[int]:
    with clock.travel(clock.now() - 4 * YEAR):
        return [make_lead(f"idle{i}@example.org", first_name=f"Idle{i}").pk
                for i in range(count)]


@pytest.mark.parametrize("count", [3, 40])
def test_many_leads_are_erased_in_a_constant_number_of_queries(
        make_lead, admin_user, django_assert_max_num_queries, count):
    ids = _idle_leads(make_lead, count)

    # Group scores, hand-offs, notifications, bounces and the suppression list too; and
    # segments' history, memberships, overrides and queue; sales' tasks and opportunities;
    # webhook deliveries and the subscribers told of the erasure.
    with django_assert_max_num_queries(55):
        assert erase_leads(ids, actor=admin_user) == count

    assert not Event.objects.filter(lead_id__in=ids).exists()
    assert not Lead.objects.filter(pk__in=ids, erased_at__isnull=True).exists()


def test_the_retention_page_reads_a_bounded_number_of_queries(
        client, admin_user, make_lead, django_assert_max_num_queries):
    _idle_leads(make_lead, 30)
    client.force_login(admin_user)
    with django_assert_max_num_queries(6):
        assert client.get("/leads/retention/").status_code == 200


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LEADFLOW_RETENTION_MODE", "sometimes", "must be one of confirm, auto, off, not 'sometimes'"),
    ("LEADFLOW_RETENTION_DAYS", "7", "must be at least 30, not 7"),
])
def test_a_bad_retention_setting_stops_leadflow_naming_the_variable(tmp_path, name, value,
                                                                    message):
    from leadflow.server.tests.test_cli import cli_env, run_cli

    result = run_cli(["migrate"], cli_env(tmp_path, **{name: value}))

    assert result.returncode == 2
    assert result.stderr.strip() == f"leadflow: error: {name} {message}"
