"""/api/v1/segments and /api/v1/leads/{id}/segments: managed by marketing and admins,
read by everyone within their lead scope (a rep sees and counts only their own leads);
errors are JSON 4xx naming the field."""

from __future__ import annotations

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead
from leadflow.segments import services
from leadflow.segments.builds import run_due
from leadflow.segments.tests.conftest import TV, built

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, make_lead):
    rita = make_user("rita")
    leads = {name: make_lead(f"{name}@example.com", country="FR") for name in ("r1", "x1")}
    Lead.objects.filter(pk=leads["r1"].pk).update(owner=rita)
    return rita, leads


def _patch(api, path, data):
    return api.client.patch("/api/v1" + path, data, content_type="application/json",
                            **api.auth)


def _delete(api, path):
    return api.client.delete("/api/v1" + path, **api.auth)


def test_a_marketer_creates_reads_changes_and_deletes_a_segment(api_for, marketer, people):
    api = api_for(marketer)
    r = api.post("/segments", {"name": "France", "filter": {
        "field": "country", "op": "equals", "value": "FR"}})
    assert r.status_code == 201, r.content
    body = r.json()
    # Answered at once: a worker counts the members.
    assert (body["build_state"], body["members"], body["last_rebuilt_at"]) == (
        "building", None, None)
    assert body["building_since"] is not None and body["filter"]["value"] == "FR"
    pk = body["id"]
    assert run_due() == 1

    body = api.get(f"/segments/{pk}").json()
    assert (body["name"], body["build_state"], body["members"]) == ("France", "built", 2)
    assert body["building_since"] is None and body["last_rebuilt_at"] is not None
    assert [s["id"] for s in api.get("/segments").json()["items"]] == [pk]
    r = _patch(api, f"/segments/{pk}", {"filter": {"field": "country", "op": "equals",
                                                   "value": "DE"}})
    assert r.status_code == 200
    assert (r.json()["build_state"], r.json()["members"]) == ("building", None)
    run_due()
    assert api.get(f"/segments/{pk}").json()["members"] == 0
    r = _patch(api, f"/segments/{pk}", {"name": "Germany"})  # no new filter: no rebuild
    assert (r.json()["build_state"], r.json()["members"]) == ("built", 0)
    r = api.post(f"/segments/{pk}/rebuild")
    assert r.status_code == 202 and r.json()["build_state"] == "building"
    assert run_due() == 1
    assert api.get(f"/segments/{pk}").json()["build_state"] == "built"
    assert _delete(api, f"/segments/{pk}").status_code == 204
    assert api.get(f"/segments/{pk}").status_code == 404


def test_a_bad_filter_is_a_422_naming_the_node(api_for, marketer):
    api = api_for(marketer)
    r = api.post("/segments", {"name": "Bad", "filter": {"all": [
        {"field": "country", "op": "equals", "value": "FR"},
        {"event": {"type": "page_view", "min": -1}}]}})
    assert r.status_code == 422
    assert r.json()["field"] == "filter.all.1.event.min"
    r = api.post("/segments", {"name": "Bad", "filter": {"segment": 999}})
    assert r.status_code == 422 and "segment" in r.json()["message"]


def test_a_segment_may_not_read_itself_around_a_loop(api_for, marketer):
    api = api_for(marketer)
    a = api.post("/segments", {"name": "A", "filter": {"all": []}}).json()["id"]
    b = api.post("/segments", {"name": "B", "filter": {"segment": a}}).json()["id"]
    r = _patch(api, f"/segments/{a}", {"filter": {"segment": b}})
    assert r.status_code == 422 and r.json()["field"] == "filter"
    assert _delete(api, f"/segments/{a}").status_code == 409


def test_the_name_is_unique(api_for, marketer):
    api = api_for(marketer)
    api.post("/segments", {"name": "A", "filter": {"all": []}})
    assert api.post("/segments", {"name": "A", "filter": {"all": []}}).status_code == 409


def test_a_rep_sees_segments_but_only_their_own_members_and_may_not_change_them(
        api_for, marketer, people):
    rita, leads = people
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    api = api_for(rita)

    assert api.get(f"/segments/{segment.pk}").json()["members"] == 1
    assert api.get("/segments").json()["items"][0]["members"] == 1
    members = api.get(f"/segments/{segment.pk}/members").json()["items"]
    assert [m["lead_id"] for m in members] == [leads["r1"].pk]
    history = api.get(f"/segments/{segment.pk}/history").json()["items"]
    assert [h["lead_id"] for h in history] == [leads["r1"].pk]

    assert api.post("/segments", {"name": "Mine", "filter": {"all": []}}).status_code == 403
    assert api.post(f"/segments/{segment.pk}/rebuild").status_code == 403
    assert api.post("/segments/preview", {"filter": {"all": []}}).status_code == 403
    assert api.post(f"/segments/{segment.pk}/exclude",
                    {"lead_ids": [leads["r1"].pk]}).status_code == 403


def test_the_preview_counts_and_samples_the_matching_leads(api_for, marketer, tv_viewer):
    six = tv_viewer("six@example.com", 6)
    tv_viewer("five@example.com", 5)
    r = api_for(marketer).post("/segments/preview", {"filter": TV})
    assert r.status_code == 200
    assert r.json()["count"] == 1 and r.json()["sample"][0]["id"] == six.pk
    r = api_for(marketer).post("/segments/preview", {"filter": {"nope": 1}})
    assert r.status_code == 422 and r.json()["field"] == "filter"


def test_include_and_exclude_through_the_api(api_for, marketer, people):
    _rita, leads = people
    segment = services.create_segment(marketer, name="Nobody", filter={"any": []})
    api = api_for(marketer)
    r = api.post(f"/segments/{segment.pk}/include", {"lead_ids": [leads["r1"].pk, 10**20]})
    assert r.status_code == 200 and r.json() == {"changed": [leads["r1"].pk]}
    r = api.post(f"/segments/{segment.pk}/exclude", {"lead_ids": [leads["r1"].pk],
                                                     "reason": "as\u0000ked"})
    assert r.json() == {"changed": [leads["r1"].pk]}


def test_a_leads_segments_say_why_with_the_events(api_for, marketer, tv_viewer, make_user):
    lead = tv_viewer("six@example.com", 6)
    segment = built(services.create_segment(marketer, name="TV", filter=TV))
    r = api_for(marketer).get(f"/leads/{lead.pk}/segments")
    assert r.status_code == 200
    body = r.json()
    (entry,) = body["segments"]
    assert entry["segment_id"] == segment.pk and entry["matches"]
    assert entry["why"]["holds"] and entry["why"]["event_count"] == 6
    assert entry["why"]["text"].startswith("At least 6 ×")
    assert body["history"][0]["reason"] == "rebuild"
    assert body["history"][0]["reason_text"] == "segment rebuilt"

    stranger = api_for(make_user("sam"))
    assert stranger.get(f"/leads/{lead.pk}/segments").status_code == 404


@pytest.mark.parametrize("path", ["/segments/0", "/segments/99999999999999999999",
                                  "/segments/abc"])
def test_missing_or_malformed_ids_are_4xx(api, path):
    assert api.get(path).status_code in (404, 422)


def test_a_manager_role_may_manage(api_for, make_user):
    api = api_for(make_user("adm", Role.ADMIN))
    assert api.post("/segments", {"name": "A", "filter": {"all": []}}).status_code == 201
