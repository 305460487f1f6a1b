"""/api/v1/campaigns: campaigns built, edited while running, started and stopped, leads
enrolled by hand, and the numbers per step, through the API with real tokens."""

import json
from datetime import timedelta

import pytest

from leadflow.accounts.models import Role, Team
from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import clock
from leadflow.emails.models import EmailTemplate
from leadflow.leads.models import Lead
from leadflow.lists.services import add_members, create_list
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db
DAY = 86400


class Api:
    def __init__(self, client):
        self.c = client

    def get(self, path, **params):
        return self.c.get(path, **params)

    def post(self, path, data=None):
        return self.c.post(path, data or {})

    def send(self, method, path, data):
        return getattr(self.c.client, method)("/api/v1" + path, json.dumps(data),
                                              content_type="application/json", **self.c.auth)


@pytest.fixture
def api2(api):
    return Api(api)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.travel():
        yield


def nurture_steps(template_id):
    """Email, wait 2 days, opened within 3 days? yes: +10 points; no: exit."""
    return [
        {"position": 1, "kind": "send_email", "template_id": template_id, "label": "Welcome"},
        {"position": 2, "kind": "wait", "config": {"wait": {"kind": "delay", "days": 2}}},
        {"position": 3, "kind": "if_opened", "config": {"within_seconds": 3 * DAY},
         "next": 4, "no": 5},
        {"position": 4, "kind": "add_points", "points": 10},
        {"position": 5, "kind": "exit"},
    ]


@pytest.fixture
def template():
    return EmailTemplate.objects.create(name="Welcome", subject="Hi", body_text="Hello",
                                        body_html="<p>Hello</p>")


def create(api2, **extra):
    answer = api2.post("/campaigns", {"name": "Nurture", "entry_event_type": "signup",
                                      **extra})
    assert answer.status_code == 201, answer.json()
    return answer.json()


def test_a_campaign_is_created_paused_built_then_started(api2, template):
    created = create(api2, goal_event_type="purchase",
                     goal_conditions=[{"field": "range", "op": "equals", "value": "pans"}])
    assert created["status"] == "paused" and created["steps"] == []
    cid = created["id"]

    saved = api2.send("put", f"/campaigns/{cid}/steps", {"steps": nurture_steps(template.pk)})
    assert saved.status_code == 200, saved.json()
    steps = {s["position"]: s for s in saved.json()["steps"]}
    assert steps[3]["family"] == "decision"
    assert (steps[3]["next"], steps[3]["no"]) == (4, 5)
    assert steps[1]["summary"] == "Welcome"
    assert steps[2]["summary"] == "Wait 2 days"
    assert steps[4]["summary"] == "+10 points"
    assert "within 3 days" in steps[3]["summary"]

    assert api2.post(f"/campaigns/{cid}/activate").json()["status"] == "active"
    assert api2.post(f"/campaigns/{cid}/pause").json()["status"] == "paused"
    patched = api2.send("patch", f"/campaigns/{cid}", {"reentry": "never",
                                                       "description": "First steps"})
    assert patched.json()["reentry"] == "never"
    assert patched.json()["goal_event_type"] == "purchase"  # untouched


def test_archived_campaigns_leave_the_list_unless_asked_for(api2):
    cid = create(api2)["id"]
    create(api2, name="Other")
    api2.post(f"/campaigns/{cid}/archive")
    names = [c["name"] for c in api2.get("/campaigns").json()["items"]]
    assert names == ["Other"]
    archived = api2.get("/campaigns", archived="true").json()["items"]
    assert [(c["name"], c["status"]) for c in archived] == [("Nurture", "archived")]


def test_a_campaign_without_steps_cannot_start(api2):
    cid = create(api2)["id"]
    answer = api2.post(f"/campaigns/{cid}/activate")
    assert answer.status_code == 409


@pytest.mark.parametrize(("step", "field"), [
    ({"position": 1, "kind": "fly"}, "steps.0.kind"),
    ({"position": 1, "kind": "send_email"}, "steps.0.template_id"),
    ({"position": 1, "kind": "send_email", "template_id": 999999}, "steps.0.template_id"),
    ({"position": 1, "kind": "if_opened", "config": {"within_seconds": -5}},
     "steps.0.config.within_seconds"),
    ({"position": 1, "kind": "wait", "config": {"wait": {"kind": "weekday", "days": ["mon"],
                                                          "time": "25:00"}}},
     "steps.0.config.wait.time"),
    ({"position": 1, "kind": "split", "config": {"percent": 120}}, "steps.0.config.percent"),
    ({"position": 1, "kind": "set_field", "config": {"field": "email", "value": "x"}},
     "steps.0.config.field"),
    ({"position": 1, "kind": "change_stage", "config": {"stage": "nowhere"}},
     "steps.0.config.stage"),
    ({"position": 1, "kind": "add_to_list", "config": {"list_id": 424242}},
     "steps.0.config.list_id"),
    ({"position": 1, "kind": "add_points", "points": 5, "no": 1}, "steps.0.no"),
    ({"position": 1, "kind": "add_points", "points": 5, "next": 7}, "steps.0.next"),
    ({"position": 1, "kind": "if_visited", "config": {
        "where": [{"field": "url", "op": "sounds_like", "value": "x"}]}},
     "steps.0.config.where.0.op"),
])
def test_a_wrong_step_is_refused_naming_its_field(api2, step, field):
    cid = create(api2)["id"]
    answer = api2.send("put", f"/campaigns/{cid}/steps", {"steps": [step]})
    assert answer.status_code == 422, answer.json()
    assert answer.json()["field"] == field


def test_a_loop_must_pass_through_a_wait_or_a_timed_decision(api2):
    cid = create(api2)["id"]
    spinning = [{"position": 1, "kind": "add_points", "points": 1},
                {"position": 2, "kind": "if_opened", "next": 1, "no": 3},
                {"position": 3, "kind": "exit"}]
    answer = api2.send("put", f"/campaigns/{cid}/steps", {"steps": spinning})
    assert answer.status_code == 422
    assert answer.json()["field"] == "steps.1.next"

    spinning[1]["config"] = {"within_seconds": DAY}  # it waits for the open: no spin
    assert api2.send("put", f"/campaigns/{cid}/steps", {"steps": spinning}).status_code == 200


def walk_two_leads(api2, template, make_lead):
    cid = create(api2)["id"]
    api2.send("put", f"/campaigns/{cid}/steps", {"steps": nurture_steps(template.pk)})
    api2.post(f"/campaigns/{cid}/activate")
    leads = [make_lead(f"lead{i}@example.com") for i in range(2)]
    for lead in leads:
        record_event("signup", lead=lead)
    run_due_enrollments()
    return cid, leads


def test_removing_a_step_leads_stand_at_needs_to_say_where_they_go(api2, template, make_lead,
                                                                    settings):
    settings.MARKETING_BASIS = "legitimate_interest"
    cid, leads = walk_two_leads(api2, template, make_lead)
    at = {e.next_position for e in Enrollment.objects.filter(campaign_id=cid)}
    assert len(at) == 1
    here = at.pop()  # the send step waiting for its email, or the wait after it
    graph = [s for s in nurture_steps(template.pk) if s["position"] != here]

    refused = api2.send("put", f"/campaigns/{cid}/steps", {"steps": graph})
    assert refused.status_code == 409
    assert refused.json()["waiting"] == {str(here): 2}
    assert f"2 leads stand at step {here}" in refused.json()["message"]

    clock.advance(timedelta(hours=1))
    moved = api2.send("put", f"/campaigns/{cid}/steps",
                      {"steps": graph, "moves": {str(here): 4}})
    assert moved.status_code == 200, moved.json()
    rows = Enrollment.objects.filter(campaign_id=cid)
    assert {(e.next_position, e.step_since, e.next_run_at, e.waits_for) for e in rows} == {
        (4, clock.now(), clock.now(), "")}
    assert {s["position"]: s["stats"]["waiting"] for s in moved.json()["steps"]}[4] == 2


def test_leads_at_a_removed_step_may_leave_instead(api2, template, make_lead, settings):
    settings.MARKETING_BASIS = "legitimate_interest"
    cid, leads = walk_two_leads(api2, template, make_lead)
    here = Enrollment.objects.filter(campaign_id=cid).first().next_position
    graph = [s for s in nurture_steps(template.pk) if s["position"] != here]
    api2.send("put", f"/campaigns/{cid}/steps", {"steps": graph, "moves": {str(here): "exit"}})
    assert {(e.status, e.exit_reason) for e in Enrollment.objects.filter(campaign_id=cid)} == {
        ("exited", "step removed")}
    assert api2.get(f"/campaigns/{cid}/stats").json()["totals"]["exited"] == 2


def test_enrolling_by_hand_counts_who_entered_and_who_did_not(api2, make_lead):
    cid = create(api2, reentry="never")["id"]
    api2.send("put", f"/campaigns/{cid}/steps", {"steps": [
        {"position": 1, "kind": "wait", "wait_seconds": DAY}]})
    api2.post(f"/campaigns/{cid}/activate")
    ana, bob = make_lead("ana@example.com"), make_lead("bob@example.com")

    first = api2.post(f"/campaigns/{cid}/enrol", {"lead_ids": [ana.pk, 10**12]}).json()
    assert (first["enrolled"], first["not_allowed"], first["not_found"]) == (1, 0, 1)

    team_list = create_list(None, name="Fair")
    add_members(None, team_list, lead_ids=[ana.pk, bob.pk])
    second = api2.post(f"/campaigns/{cid}/enrol", {"list_id": team_list.pk}).json()
    assert (second["enrolled"], second["not_allowed"], second["lead_ids"]) == (1, 1, [bob.pk])


def test_enrolling_into_a_paused_campaign_is_a_conflict(api2, make_lead):
    cid = create(api2)["id"]
    answer = api2.post(f"/campaigns/{cid}/enrol", {"lead_ids": [make_lead("a@example.com").pk]})
    assert answer.status_code == 409


def test_statistics_show_per_step_after_leads_walk(api2, make_lead):
    cid = create(api2)["id"]
    api2.send("put", f"/campaigns/{cid}/steps", {"steps": [
        {"position": 1, "kind": "add_points", "points": 5},
        {"position": 2, "kind": "wait", "wait_seconds": DAY},
        {"position": 3, "kind": "add_points", "points": 5}]})
    api2.post(f"/campaigns/{cid}/activate")
    leads = [make_lead(f"s{i}@example.com").pk for i in range(3)]
    api2.post(f"/campaigns/{cid}/enrol", {"lead_ids": leads})
    run_due_enrollments()

    numbers = api2.get(f"/campaigns/{cid}/stats").json()
    assert numbers["steps"]["1"] == {"entered": 3, "waiting": 0, "passed": 3,
                                     "converted": 0, "exited": 0}
    assert numbers["steps"]["2"]["waiting"] == 3
    clock.advance(timedelta(days=1, seconds=1))
    run_due_enrollments()
    numbers = api2.get(f"/campaigns/{cid}/stats").json()
    assert numbers["steps"]["3"]["passed"] == 3
    assert numbers["totals"] == {"active": 0, "completed": 3, "converted": 0, "exited": 0,
                                 "failed": 0}
    waiting = api2.get(f"/campaigns/{cid}/memberships", status="completed").json()
    assert waiting["count"] == 3


def test_statistics_cost_the_same_for_any_number_of_leads(api2, make_lead,
                                                          django_assert_max_num_queries):
    from leadflow.campaigns import editor

    cid = create(api2)["id"]
    api2.send("put", f"/campaigns/{cid}/steps", {"steps": [
        {"position": p, "kind": "wait", "wait_seconds": DAY} for p in range(1, 6)]})
    campaign = Campaign.objects.get(pk=cid)
    for n in (2, 20):
        Enrollment.objects.bulk_create([
            Enrollment(campaign=campaign, lead=make_lead(f"q{n}-{i}@example.com"),
                       entered_at=clock.now(), step_since=clock.now(), next_position=i % 5 + 1)
            for i in range(n)])
        with django_assert_max_num_queries(4):
            editor.stats(campaign)


def test_saving_a_graph_costs_the_same_for_3_or_30_steps(api2, template,
                                                         django_assert_max_num_queries):
    from leadflow.accounts.models import User
    from leadflow.campaigns import editor

    boss = User.objects.get(username="boss")
    for n in (3, 30):
        campaign = Campaign.objects.get(pk=create(api2, name=f"C{n}")["id"])
        graph = [{"position": p, "kind": "send_email" if p % 2 else "wait",
                  "template_id": template.pk, "wait_seconds": DAY,
                  "next": p + 1 if p < n else None} for p in range(1, n + 1)]
        for s in graph:
            if s["kind"] == "wait":
                del s["template_id"]
        with django_assert_max_num_queries(14):
            editor.save_graph(boss, campaign, graph)
        with django_assert_max_num_queries(14):
            editor.save_graph(boss, campaign, graph)  # an edit of the same graph


def test_sales_people_read_or_are_refused_and_see_only_their_leads(api2, api_for, make_user,
                                                                  make_lead):
    team = Team.objects.create(name="East")
    manager = make_user("maud", Role.SALES_MANAGER, team=team)
    rep = make_user("remi", Role.SALES_REP, team=team)
    cid = create(api2)["id"]
    api2.send("put", f"/campaigns/{cid}/steps", {"steps": [
        {"position": 1, "kind": "wait", "wait_seconds": DAY}]})
    api2.post(f"/campaigns/{cid}/activate")
    mine = make_lead("mine@example.com")
    Lead.objects.filter(pk=mine.pk).update(owner=rep, team=team)  # routed to the team
    other = make_lead("other@example.com")
    api2.post(f"/campaigns/{cid}/enrol", {"lead_ids": [mine.pk, other.pk]})

    as_manager = api_for(manager)
    assert as_manager.get(f"/campaigns/{cid}").status_code == 200
    seen = as_manager.get(f"/campaigns/{cid}/memberships").json()["items"]
    assert [m["lead_id"] for m in seen] == [mine.pk]
    assert as_manager.post(f"/campaigns/{cid}/pause").status_code == 403
    assert api_for(rep).get("/campaigns").status_code == 403


def test_a_duplicate_name_is_a_conflict(api2):
    create(api2)
    answer = api2.post("/campaigns", {"name": "Nurture"})
    assert answer.status_code == 409
    assert answer.json()["field"] == "name"
