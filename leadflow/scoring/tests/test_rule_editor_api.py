"""Score rules and groups through the API (/api/v1/scoring/): CRUD with a marketer's token,
the preview that changes nothing, `notify` required when scores may move, the re-score
job to poll, token scopes and roles, and the audit log naming who changed what."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role, TokenScope
from leadflow.accounts.services import create_token
from leadflow.audit.models import AuditEntry
from leadflow.scoring.jobs import RescoreJob
from leadflow.scoring.models import ScoreGroup, ScoreRule
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

class Api:
    def __init__(self, user, scope=TokenScope.FULL):
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {create_token(user, scope=scope)[1]}"}

    def get(self, path, **params):
        return self.client.get("/api/v1/scoring" + path, params, **self.auth)

    def send(self, method, path, data=None):
        return getattr(self.client, method)("/api/v1/scoring" + path, data,
                                            content_type="application/json", **self.auth)


@pytest.fixture
def mia(make_user):
    return make_user("mia", Role.MARKETING)


@pytest.fixture
def api(mia) -> Api:
    return Api(mia)


RULE = {"name": "Webinar attended", "event_type": "webinar_attended", "points": 12,
        "category": "interest",
        "conditions": [{"field": "topic", "op": "one_of", "value": ["automation", "crm"]},
                       {"field": "minutes", "op": "gte", "value": 20}],
        "max_times": 2, "per": "month", "notify": False}


def test_create_read_list_update_and_delete_a_rule(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = api.send("post", "/rules", RULE)
    assert created.status_code == 201, created.json()
    body = created.json()
    rule_id = body["rule"]["id"]
    assert body["rule"]["conditions"] == RULE["conditions"]
    assert body["rule"]["summary"].startswith("+12 Interest")
    assert body["rescore"]["notify"] is False
    assert api.get(f"/jobs/{body['rescore']['id']}").json()["status"] == "done"

    assert api.get(f"/rules/{rule_id}").json()["per"] == "month"
    assert [r["name"] for r in api.get("/rules", active=True).json()] == ["Webinar attended"]

    changed = api.send("patch", f"/rules/{rule_id}", {"points": 30, "notify": True})
    assert changed.status_code == 200
    assert changed.json()["rule"]["points"] == 30
    assert changed.json()["rescore"]["status"] == "queued"
    assert changed.json()["rescore"]["notify"] is True

    renamed = api.send("patch", f"/rules/{rule_id}", {"name": "Webinar"})
    assert renamed.status_code == 200 and renamed.json()["rescore"] is None

    deleted = api.send("delete", f"/rules/{rule_id}?notify=false")
    assert deleted.status_code == 200 and deleted.json()["rescore"]["status"] == "queued"
    assert api.get(f"/rules/{rule_id}").status_code == 404


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"conditions": [{"field": "topic", "op": "like", "value": "x"}]}, "conditions.0.op",
     "unknown operator"),
    ({"conditions": [{"field": "topic", "op": "equals"}]}, "conditions.0.value", "value"),
    ({"conditions": [{"op": "equals", "value": "x"}]}, "conditions.0.field", "field"),
    ({"event_type": "Not a type!"}, "event_type", "event type"),
    ({"event_type": ""}, "event_type", "event type"),
    ({"category": "mood"}, "category", "dimension"),
    ({"per": "year"}, "per", "per"),
    ({"valid_from": "2026-06-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"},
     "valid_until", "after"),
    ({"group": 999999}, "group", "group"),
])
def test_a_bad_rule_is_a_422_naming_the_field(api, change, field, words):
    response = api.send("post", "/rules", {**RULE, **change})

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert words in response.json()["message"].lower()
    assert not ScoreRule.objects.filter(name=RULE["name"]).exists()


def test_notify_is_required_when_the_change_moves_scores(api, score_rules):
    rule = score_rules["demo_requested"]

    refused = api.send("patch", f"/rules/{rule.pk}", {"points": 40})
    assert refused.status_code == 422 and refused.json()["field"] == "notify"
    rule.refresh_from_db()
    assert rule.points == 20

    assert api.send("post", "/rules", {**RULE, "notify": None}).status_code == 422
    assert api.send("delete", f"/rules/{rule.pk}").status_code == 422
    assert not RescoreJob.objects.exists()


def test_preview_answers_counts_and_changes_nothing(api, make_lead, score_rules):
    lead = make_lead("ana@example.com")
    record_event("demo_requested", lead=lead)
    lead.refresh_from_db()
    before = (lead.score, lead.stage)
    rule = score_rules["demo_requested"]

    response = api.send("post", "/rules/preview", {"id": rule.pk, "points": 200})

    assert response.status_code == 200
    assert set(response.json()) >= {"leads_changed", "stage_moves"}
    rule.refresh_from_db()
    lead.refresh_from_db()
    assert rule.points == 20 and (lead.score, lead.stage) == before
    assert not RescoreJob.objects.exists()
    assert not AuditEntry.objects.filter(object_type="scoring.ScoreRule").exists()


def test_preview_counts_the_leads_whose_score_would_change(api, make_lead, score_rules):
    for n in range(4):
        record_event("demo_requested", lead=make_lead(f"d{n}@example.com"))
    make_lead("quiet@example.com")

    response = api.send("post", "/rules/preview",
                        {"id": score_rules["demo_requested"].pk, "points": 25})

    assert response.json()["leads_changed"] == 4


def test_saving_re_scores_every_lead_from_its_events(
        api, make_lead, score_rules, django_capture_on_commit_callbacks):
    lead = make_lead("ana@example.com")
    record_event("demo_requested", lead=lead)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.send("patch", f"/rules/{score_rules['demo_requested'].pk}",
                            {"points": 35, "notify": False})

    lead.refresh_from_db()
    assert lead.score == 35
    job = RescoreJob.objects.get(pk=response.json()["rescore"]["id"])
    assert (job.status, job.leads_changed) == ("done", 1)


def test_groups_are_listed_created_and_changed(api, django_capture_on_commit_callbacks):
    assert [g["slug"] for g in api.get("/groups").json()] == ["score"]

    created = api.send("post", "/groups", {"name": "Product B", "weight_fit": 2})
    assert created.status_code == 201
    group = created.json()["group"]
    assert (group["slug"], group["is_primary"], created.json()["rescore"]) == (
        "product-b", False, None)

    refused = api.send("patch", f"/groups/{group['id']}", {"grade_a_min": 5})
    assert refused.status_code == 422 and refused.json()["field"] in ("notify", "grade_b_min")

    with django_capture_on_commit_callbacks(execute=True):
        primary = api.send("patch", f"/groups/{group['id']}", {"is_primary": True,
                                                               "notify": False})
    assert primary.status_code == 200 and primary.json()["group"]["is_primary"] is True
    assert ScoreGroup.objects.get(is_primary=True).slug == "product-b"
    assert primary.json()["rescore"]["reason"].endswith("made primary")


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_sales_read_the_rules_but_may_not_change_them(make_user, role, score_rules):
    api = Api(make_user("sam", role))
    rule = score_rules["demo_requested"]

    assert api.get("/rules").status_code == 200
    for method, path, body in (("post", "/rules", RULE),
                               ("patch", f"/rules/{rule.pk}", {"points": 1, "notify": False}),
                               ("delete", f"/rules/{rule.pk}?notify=false", None),
                               ("post", "/rules/preview", {"id": rule.pk, "points": 1}),
                               ("post", "/groups", {"name": "Mine"})):
        response = api.send(method, path, body)
        assert response.status_code == 403, (method, path)
        assert "administrators and marketers" in response.json()["message"]
    rule.refresh_from_db()
    assert rule.points == 20


def test_a_read_only_token_reads_and_an_ingest_token_does_nothing(mia):
    reader = Api(mia, TokenScope.READ)
    assert reader.get("/rules").status_code == 200
    assert reader.send("post", "/rules", RULE).status_code == 403

    ingest = Api(mia, TokenScope.INGEST)
    assert ingest.get("/rules").status_code == 403
    assert not ScoreRule.objects.exists()


def test_rule_and_group_changes_are_in_the_audit_log_with_their_actor(api):
    rule_id = api.send("post", "/rules", RULE).json()["rule"]["id"]
    api.send("patch", f"/rules/{rule_id}", {"points": 13, "notify": False})
    group_id = api.send("post", "/groups", {"name": "Product B"}).json()["group"]["id"]

    entries = AuditEntry.objects.filter(kind="config").order_by("pk")
    rules = [(e.action, e.actor_label) for e in entries if e.object_type == "scoring.ScoreRule"]
    assert rules == [("created", "mia"), ("changed", "mia")]
    changed = entries.filter(object_type="scoring.ScoreRule", action="changed").get()
    assert changed.changes["points"] == [12, 13]
    assert entries.filter(object_type="scoring.ScoreGroup", object_id=str(group_id),
                          actor_label="mia").exists()


def test_the_endpoints_are_in_the_openapi_schema(api):
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/scoring/rules", "/api/v1/scoring/rules/{rule_id}",
                 "/api/v1/scoring/rules/preview", "/api/v1/scoring/groups",
                 "/api/v1/scoring/groups/{group_id}", "/api/v1/scoring/jobs/{job_id}"):
        assert path in paths
    assert "hand-offs" in schema["components"]["schemas"]["RulePatch"]["properties"][
        "notify"]["description"]
