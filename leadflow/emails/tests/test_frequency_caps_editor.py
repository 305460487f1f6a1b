"""Frequency caps, edited by admins and marketing on /emails/caps/ and
/api/v1/emails/frequency-caps: checked values naming the field at fault, no exact
duplicate, audited like other configuration; and the email hub (/emails/), the menu's one
Email link, listing only the areas the reader may open."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEntry
from leadflow.campaigns.models import Campaign
from leadflow.emails.models import FrequencyCap

pytestmark = pytest.mark.django_db

SKIP, WAIT = FrequencyCap.WhenReached.SKIP, FrequencyCap.WhenReached.WAIT


@pytest.fixture
def marketer(make_user):
    return make_user("mia", Role.MARKETING)


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP)


@pytest.fixture
def welcome(db):
    return Campaign.objects.create(name="Welcome", entry_event_type="lead_created")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _caps() -> list[tuple]:
    return list(FrequencyCap.objects.order_by("pk").values_list(
        "campaign__name", "max_messages", "period_hours", "when_reached"))


# --- the page ---------------------------------------------------------------------------

def test_a_marketer_adds_edits_and_deletes_caps_on_the_page(marketer, welcome):
    client = _signed_in(marketer)
    form = client.get("/emails/caps/").content.decode()
    assert "No cap yet" in form and f'<option value="{welcome.pk}">' in form

    r = client.post("/emails/caps/", {"campaign": "", "max_messages": "3",
                                      "period_hours": "168", "when_reached": "skip"})
    assert (r.status_code, r["Location"]) == (302, "/emails/caps/")
    client.post("/emails/caps/", {"campaign": str(welcome.pk), "max_messages": "1",
                                  "period_hours": "24", "when_reached": "wait"})
    assert _caps() == [(None, 3, 168, SKIP), ("Welcome", 1, 24, WAIT)]
    listing = client.get("/emails/caps/").content.decode()
    assert "all marketing email" in listing and "the campaign Welcome" in listing

    cap = FrequencyCap.objects.get(campaign=welcome)
    edit = client.get(f"/emails/caps/{cap.pk}/edit").content.decode()
    assert f'<option value="{welcome.pk}" selected>' in edit
    r = client.post(f"/emails/caps/{cap.pk}/edit", {"campaign": str(welcome.pk),
                                                    "max_messages": "2", "period_hours": "48",
                                                    "when_reached": "skip"})
    assert r.status_code == 302
    assert _caps() == [(None, 3, 168, SKIP), ("Welcome", 2, 48, SKIP)]

    assert client.post(f"/emails/caps/{cap.pk}/delete").status_code == 302
    assert _caps() == [(None, 3, 168, SKIP)]


def test_the_page_shows_the_error_at_its_field_and_keeps_what_was_typed(marketer):
    client = _signed_in(marketer)
    r = client.post("/emails/caps/", {"campaign": "", "max_messages": "0",
                                      "period_hours": "9000", "when_reached": "skip"})
    page = r.content.decode()
    assert r.status_code == 422
    assert 'id="err-max_messages"' in page and "between 1 and 10000" in page
    assert 'value="9000"' in page
    assert FrequencyCap.objects.count() == 0

    r = client.post("/emails/caps/", {"campaign": "", "max_messages": "2",
                                      "period_hours": "9000", "when_reached": "skip"})
    assert r.status_code == 422 and 'id="err-period_hours"' in r.content.decode()


def test_a_rep_may_neither_see_nor_change_the_caps(rep):
    cap = FrequencyCap.objects.create(max_messages=3, period_hours=24)
    client = _signed_in(rep)
    assert client.get("/emails/caps/").status_code == 403
    assert client.post("/emails/caps/", {"max_messages": "1",
                                          "period_hours": "1"}).status_code == 403
    assert client.post(f"/emails/caps/{cap.pk}/edit", {"max_messages": "9",
                                                       "period_hours": "9"}).status_code == 403
    assert client.post(f"/emails/caps/{cap.pk}/delete").status_code == 403
    assert _caps() == [(None, 3, 24, SKIP)]


def test_each_change_is_in_the_audit_log_with_its_actor(marketer):
    client = _signed_in(marketer)
    client.post("/emails/caps/", {"max_messages": "3", "period_hours": "24"})
    cap = FrequencyCap.objects.get()
    client.post(f"/emails/caps/{cap.pk}/edit", {"max_messages": "4", "period_hours": "24"})
    client.post(f"/emails/caps/{cap.pk}/delete")

    entries = AuditEntry.objects.filter(object_type="emails.FrequencyCap").order_by("pk")
    assert [e.action for e in entries] == ["created", "changed", "deleted"]
    assert {e.actor_id for e in entries} == {marketer.pk}


# --- the API ----------------------------------------------------------------------------

def test_the_api_lists_creates_changes_and_deletes_caps(api_for, marketer, welcome):
    api = api_for(marketer)
    r = api.post("/emails/frequency-caps", {"max_messages": 5, "period_hours": 168})
    assert r.status_code == 201, r.content
    created = r.json()
    assert {k: created[k] for k in ("campaign", "max_messages", "period_hours",
                                    "when_reached")} == {
        "campaign": None, "max_messages": 5, "period_hours": 168, "when_reached": "skip"}

    r = api.client.patch(f"/api/v1/emails/frequency-caps/{created['id']}",
                         {"campaign": welcome.pk, "when_reached": "wait"},
                         content_type="application/json", **api.auth)
    assert r.status_code == 200, r.content
    assert (r.json()["campaign"], r.json()["when_reached"], r.json()["max_messages"]) == (
        welcome.pk, "wait", 5)
    assert [c["id"] for c in api.get("/emails/frequency-caps").json()] == [created["id"]]

    r = api.client.delete(f"/api/v1/emails/frequency-caps/{created['id']}", **api.auth)
    assert r.status_code == 204 and api.get("/emails/frequency-caps").json() == []
    r = api.client.delete(f"/api/v1/emails/frequency-caps/{created['id']}", **api.auth)
    assert r.status_code == 404


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"max_messages": 0, "period_hours": 24}, 422, "max_messages"),
    ({"max_messages": 2, "period_hours": 0}, 422, "period_hours"),
    ({"max_messages": 2, "period_hours": 8761}, 422, "period_hours"),
    ({"max_messages": 2, "period_hours": 24, "campaign": 999_999}, 422, "campaign"),
    ({"max_messages": 2, "period_hours": 24, "when_reached": "later"}, 422, "when_reached"),
    ({"max_messages": 3, "period_hours": 24}, 409, "max_messages"),  # the same cap again
])
def test_the_api_refuses_bad_values_naming_the_field(api_for, marketer, body, status, field):
    FrequencyCap.objects.create(max_messages=3, period_hours=24)
    r = api_for(marketer).post("/emails/frequency-caps", body)
    assert (r.status_code, r.json()["field"]) == (status, field), r.content
    assert FrequencyCap.objects.count() == 1


def test_the_same_window_for_another_campaign_is_no_duplicate(api_for, marketer, welcome):
    FrequencyCap.objects.create(max_messages=3, period_hours=24)
    r = api_for(marketer).post("/emails/frequency-caps", {
        "max_messages": 3, "period_hours": 24, "campaign": welcome.pk})
    assert r.status_code == 201, r.content


def test_a_rep_token_may_neither_read_nor_write_caps(api_for, rep):
    cap = FrequencyCap.objects.create(max_messages=3, period_hours=24)
    api = api_for(rep)
    assert api.get("/emails/frequency-caps").status_code == 403
    assert api.post("/emails/frequency-caps", {"max_messages": 1,
                                               "period_hours": 1}).status_code == 403
    r = api.client.patch(f"/api/v1/emails/frequency-caps/{cap.pk}", {"max_messages": 9},
                         content_type="application/json", **api.auth)
    assert r.status_code == 403
    assert api.client.delete(f"/api/v1/emails/frequency-caps/{cap.pk}",
                             **api.auth).status_code == 403
    assert _caps() == [(None, 3, 24, SKIP)]


# --- the email hub and the menu ---------------------------------------------------------

ALL_AREAS = ["templates", "sends", "lists", "topics", "suppression", "caps", "senders",
             "deliverability"]


def _areas(client: Client) -> list[str]:
    page = client.get("/emails/").content.decode()
    return [key for key in ALL_AREAS if f'id="area-{key}"' in page]


def test_the_hub_lists_every_area_for_an_admin_and_lists_only_for_a_rep(admin_user, rep):
    admin = _signed_in(admin_user)
    assert _areas(admin) == ALL_AREAS
    page = admin.get("/emails/").content.decode()
    for path in ("/emails/templates/", "/lists/sends/", "/lists/", "/emails/topics/",
                 "/emails/suppression/", "/emails/caps/", "/emails/senders/",
                 "/emails/deliverability/"):
        assert f'href="{path}"' in page
        assert admin.get(path).status_code == 200

    assert _areas(_signed_in(rep)) == ["lists"]


def test_the_menu_has_one_email_link_current_on_email_and_list_pages(marketer):
    client = _signed_in(marketer)
    current = '<a href="/emails/" aria-current="page"'
    for path in ("/emails/", "/emails/caps/", "/emails/templates/", "/lists/",
                 "/lists/sends/"):
        body = client.get(path).content.decode()
        assert body.count('href="/emails/"') == 1 and current in body, path
        assert 'href="/" aria-current' not in body, path
    leads = client.get("/leads/").content.decode()
    assert 'href="/emails/"' in leads and current not in leads
    for gone in ('href="/emails/senders/"', 'href="/emails/deliverability/"',
                 'href="/lists/"'):
        assert gone not in leads
