"""The transition rule editor: admins and marketing add, change and delete the rules that
move leads between stages, on the Stages page and through /api/v1/lifecycle/rules; every
user reads them in plain words. A saved rule applies to the next events."""

import json

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEntry
from leadflow.leads.models import Lead
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.lifecycle.services import change_stage
from leadflow.scoring.models import ScoreGroup
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

SCORE_RULE = {"kind": "score", "stage": "mql", "from_stages": ["lead"], "min_score": "15",
              "group": "", "min_grade": "", "content_kind": "", "pattern": "",
              "event_type": "", "active": "on"}


def _client(user, language="en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _stage(lead: Lead) -> str:
    lead.refresh_from_db()
    return lead.stage


def _patch(api, path: str, data: dict):
    return api.client.patch("/api/v1" + path, json.dumps(data),
                            content_type="application/json", **api.auth)


def _delete(api, path: str):
    return api.client.delete("/api/v1" + path, **api.auth)


def test_a_marketer_adds_a_score_rule_on_the_stages_page_and_it_then_promotes_a_lead(
        make_user, make_lead, score_rules):
    marketer = _client(make_user("mia", Role.MARKETING))
    lead = make_lead("ana@example.com")
    assert marketer.get("/stages/rules/new").status_code == 200

    r = marketer.post("/stages/rules/new", SCORE_RULE)

    assert (r.status_code, r["Location"]) == (302, "/stages/")
    rule = StageThreshold.objects.get()
    assert (rule.kind, rule.stage, rule.from_stages, rule.min_score, rule.group_id) == (
        "score", "mql", ["lead"], 15, None)
    page = marketer.get("/stages/").content.decode()
    assert "Lead → MQL when score ≥ 15 (primary group)" in page
    assert "no lead moves now" in page
    assert _stage(lead) == "lead"  # saving moves nobody

    record_event("demo_requested", lead=lead)  # +20

    assert _stage(lead) == "mql"
    assert StageChange.objects.filter(lead=lead).first().cause == "score"


def test_an_hmql_content_rule_added_through_the_api_moves_an_mql_who_views_the_page(
        make_user, make_lead, api_for):
    api = api_for(make_user("mia", Role.MARKETING))
    r = api.post("/lifecycle/rules", {
        "kind": "content", "stage": "hmql", "from_stages": ["mql"], "content_kind": "page",
        "pattern": "*/whitepapers/automation-strategy*"})
    assert r.status_code == 201
    assert r.json()["summary"] == (
        "MQL → HMQL on content: URL */whitepapers/automation-strategy*")
    reader, browser = make_lead("ana@example.com"), make_lead("bob@example.com")
    for lead in (reader, browser):
        change_stage(lead, "mql")

    record_event("page_view", lead=reader, properties={
        "url": "https://example.com/whitepapers/automation-strategy?utm_source=x"})
    record_event("page_view", lead=browser, properties={
        "url": "https://example.com/blog/what-is-automation"})

    assert (_stage(reader), _stage(browser)) == ("hmql", "mql")
    assert StageChange.objects.filter(lead=reader).first().cause == "content"


def test_a_bad_rule_is_refused_next_to_its_field_with_the_input_kept(make_user):
    marketer = _client(make_user("mia", Role.MARKETING))

    r = marketer.post("/stages/rules/new", {**SCORE_RULE, "min_score": "lots"})

    assert r.status_code == 422
    page = r.content.decode()
    assert 'name="min_score" value="lots"' in page
    assert 'aria-describedby="err-min_score"' in page
    assert '<span class="field-error" id="err-min_score">Enter a whole number.</span>' in page
    assert 'value="lead" checked' in page  # the ticked stage stays ticked
    assert not StageThreshold.objects.exists()

    r = marketer.post("/stages/rules/new", {**SCORE_RULE, "kind": "content",
                                            "content_kind": "page", "pattern": "  "})
    assert r.status_code == 422
    assert 'id="err-pattern"' in r.content.decode()


def test_sales_read_the_rules_but_get_403_on_every_edit(make_user, api_for):
    rule = StageThreshold.objects.create(kind="grade", stage="mql", min_grade="B")
    rep = make_user("rita")
    page = _client(rep).get("/stages/").content.decode()
    assert "Subscriber, Lead, Nurture → MQL when the fit grade is B or better" in page
    assert "/stages/rules/new" not in page and f"/stages/rules/{rule.pk}/edit" not in page

    client = _client(rep)
    assert client.get("/stages/rules/new").status_code == 403
    assert client.post("/stages/rules/new", SCORE_RULE).status_code == 403
    assert client.get(f"/stages/rules/{rule.pk}/edit").status_code == 403
    assert client.post(f"/stages/rules/{rule.pk}/delete").status_code == 403

    api = api_for(rep)
    assert [r["id"] for r in api.get("/lifecycle/rules").json()] == [rule.pk]
    assert api.post("/lifecycle/rules", {"stage": "mql", "min_score": 5}).status_code == 403
    assert _patch(api, f"/lifecycle/rules/{rule.pk}", {"min_grade": "A"}).status_code == 403
    assert _delete(api, f"/lifecycle/rules/{rule.pk}").status_code == 403
    assert StageThreshold.objects.get().min_grade == "B"


@pytest.mark.parametrize(("body", "field"), [
    ({"stage": "nowhere", "min_score": 10}, "stage"),
    ({"stage": "mql"}, "min_score"),
    ({"stage": "mql", "min_score": 10, "group": 999_999}, "group"),
    ({"stage": "mql", "min_score": 10, "from_stages": ["lead", "limbo"]}, "from_stages"),
    ({"stage": "mql", "min_score": 10, "from_stages": ["mql"]}, "from_stages"),
    ({"kind": "grade", "stage": "mql", "min_grade": "E"}, "min_grade"),
    ({"kind": "content", "stage": "hmql", "content_kind": "page", "pattern": ""}, "pattern"),
    ({"kind": "content", "stage": "hmql", "content_kind": "video", "pattern": "x"},
     "content_kind"),
    ({"kind": "event", "stage": "sql", "event_type": ""}, "event_type"),
    ({"kind": "teleport", "stage": "sql"}, "kind"),
])
def test_the_api_refuses_a_bad_rule_with_422_naming_the_field(api, body, field):
    r = api.post("/lifecycle/rules", body)

    assert r.status_code == 422
    assert r.json()["field"] == field
    assert not StageThreshold.objects.exists()


def test_a_rule_is_changed_and_deleted_through_the_api_and_audited(make_user, api_for):
    api = api_for(make_user("mia", Role.MARKETING))
    group = ScoreGroup.objects.create(name="Product B", slug="product-b")
    created = api.post("/lifecycle/rules", {"stage": "mql", "min_score": 30,
                                            "group": group.pk}).json()
    assert created["summary"].endswith("when score ≥ 30 (Product B)")

    r = _patch(api, f"/lifecycle/rules/{created['id']}", {"min_score": 40, "active": False})

    assert r.status_code == 200
    assert (r.json()["min_score"], r.json()["active"], r.json()["group"]) == (
        40, False, group.pk)
    assert _patch(api, f"/lifecycle/rules/{created['id']}",
                  {"kind": "event"}).json()["field"] == "event_type"
    assert _delete(api, f"/lifecycle/rules/{created['id']}").status_code == 204
    assert not StageThreshold.objects.exists()
    assert _delete(api, f"/lifecycle/rules/{created['id']}").status_code == 404
    assert _patch(api, "/lifecycle/rules/999999", {"min_score": 1}).status_code == 404
    actions = list(AuditEntry.objects.filter(object_type="lifecycle.StageThreshold")
                   .values_list("action", "actor__username"))
    assert len(actions) == 3 and {who for _action, who in actions} == {"mia"}


def test_a_marketer_edits_then_deletes_a_rule_on_the_stages_page(make_user):
    rule = StageThreshold.objects.create(kind="event", stage="sql",
                                         event_type="demo_requested")
    marketer = _client(make_user("mia", Role.MARKETING))
    page = marketer.get(f"/stages/rules/{rule.pk}/edit").content.decode()
    assert 'name="event_type" value="demo_requested"' in page

    r = marketer.post(f"/stages/rules/{rule.pk}/edit", {
        **SCORE_RULE, "kind": "event", "stage": "sql", "from_stages": ["lead", "mql"],
        "event_type": "pricing_requested", "min_score": ""})

    assert r.status_code == 302
    rule.refresh_from_db()
    assert (rule.event_type, rule.from_stages, rule.min_score) == (
        "pricing_requested", ["lead", "mql"], None)
    assert "Lead, MQL → SQL on the event pricing_requested" in marketer.get(
        "/stages/").content.decode()

    r = marketer.post(f"/stages/rules/{rule.pk}/delete")

    assert (r.status_code, r["Location"]) == (302, "/stages/")
    assert not StageThreshold.objects.exists()
    assert marketer.get(f"/stages/rules/{rule.pk}/edit").status_code == 404


def test_the_rules_read_in_french(make_user):
    StageThreshold.objects.create(stage="mql", from_stages=["lead"], min_score=15)
    page = _client(make_user("mia", Role.MARKETING), "fr").get("/stages/").content.decode()
    assert "Règles de transition" in page
    assert "Lead → MQL quand le score ≥ 15 (groupe principal)" in page


def test_a_marketer_adds_a_reason_and_deactivates_it_so_it_is_no_longer_offered(
        make_user):
    from leadflow.lifecycle import stages
    from leadflow.lifecycle.models import QualificationReason

    marketer = _client(make_user("mia", Role.MARKETING))
    r = marketer.post("/stages/reasons/new", {"code": "competitor", "label_en": "Chose a "
                      "competitor", "label_fr": "A choisi un concurrent"})
    assert (r.status_code, r["Location"]) == (302, "/stages/")
    reason = QualificationReason.objects.get(code="competitor")
    assert "competitor" in [r.code for r in stages.reasons()]

    refused = marketer.post("/stages/reasons/new", {"code": "competitor", "label_en": "Again"})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert 'id="err-code"' in page and 'name="label_en" value="Again"' in page

    r = marketer.post(f"/stages/reasons/{reason.pk}/active", {"active": "0"})

    assert r.status_code == 302
    assert "competitor" not in [r.code for r in stages.reasons()]
    assert "Chose a competitor" in marketer.get("/stages/").content.decode()  # still listed
    rep = _client(make_user("rita"))
    assert "Chose a competitor" not in rep.get("/stages/").content.decode()
    assert rep.post(f"/stages/reasons/{reason.pk}/active", {"active": "1"}).status_code == 403
    assert rep.post("/stages/reasons/new", {"code": "x", "label_en": "X"}).status_code == 403


def test_reasons_through_the_api(make_user, api_for):
    api = api_for(make_user("mia", Role.MARKETING))
    r = api.post("/lifecycle/reasons", {"code": "timing", "label_en": "Bad timing",
                                        "needs_note": True})
    assert r.status_code == 201
    reason_id = r.json()["id"]
    assert api.post("/lifecycle/reasons", {"code": "Bad Code!", "label_en": "x"}).json()[
        "field"] == "code"

    r = _patch(api, f"/lifecycle/reasons/{reason_id}", {"active": False})

    assert (r.status_code, r.json()["active"]) == (200, False)
    assert _patch(api, f"/lifecycle/reasons/{reason_id}", {"label_en": ""}).json()[
        "field"] == "label_en"
    assert _patch(api, "/lifecycle/reasons/999999", {"active": True}).status_code == 404
    rep = api_for(make_user("rita"))
    listed = {r["code"]: r["active"] for r in rep.get("/lifecycle/reasons").json()}
    assert listed["timing"] is False and listed["no_budget"] is True
    assert _patch(rep, f"/lifecycle/reasons/{reason_id}", {"active": True}).status_code == 403
