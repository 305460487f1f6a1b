"""The campaign builder's pages, without script: a marketer creates a campaign, adds steps
(after a decision's yes and no), edits, moves and deletes them through plain forms, and
reads the graph with its statistics; sales people are kept out."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.campaigns import editor
from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock
from leadflow.emails.models import EmailTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    user = make_user("mia", Role.MARKETING)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture(autouse=True)
def _frozen():
    with clock.travel():
        yield


def new_campaign(marketer) -> Campaign:
    answer = marketer.post("/campaigns/", {"name": "Welcome", "entry_event_type": "signup"})
    assert answer.status_code == 302
    return Campaign.objects.get(name="Welcome")


def add(marketer, campaign, kind, after=None, branch="yes"):
    data = {"kind": kind, "branch": branch}
    if after is not None:
        data["after"] = after
    answer = marketer.post(f"/campaigns/{campaign.pk}/steps/add", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return int(re.search(r"step=(\d+)", answer["Location"])[1])


def graph(campaign):
    return {s["position"]: s for s in editor.graph_of(campaign)}


def test_a_marketer_builds_a_campaign_with_a_decision_from_the_page(marketer):
    EmailTemplate.objects.create(name="Hello", subject="Hi", body_text="Hi", body_html="<p>Hi</p>")
    campaign = new_campaign(marketer)
    send = add(marketer, campaign, "send_email")
    decide = add(marketer, campaign, "if_opened", after=send)
    yes = add(marketer, campaign, "add_points", after=decide)
    no = add(marketer, campaign, "exit", after=decide, branch="no")
    steps = graph(campaign)
    assert (steps[decide]["next"], steps[decide]["no"]) == (yes, no)

    page = marketer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'class="campaign-graph"' in page
    assert ">yes</text>" in page and ">no</text>" in page
    assert "Hello" in page and "+10 points" in page and "within 3 days" in page
    assert 'href="/campaigns/"' in page  # the menu entry


def test_a_step_form_changes_the_step_and_its_links(marketer):
    campaign = new_campaign(marketer)
    wait = add(marketer, campaign, "wait")
    points = add(marketer, campaign, "add_points", after=wait)
    answer = marketer.post(f"/campaigns/{campaign.pk}/steps/{wait}/", {
        "kind": "wait", "label": "Let it sink in", "wait_amount": "2", "wait_unit": "days",
        "next": str(points)})
    assert answer.status_code == 302
    step = graph(campaign)[wait]
    assert (step["label"], step["summary"], step["next"]) == ("Let it sink in", "Wait 2 days",
                                                              points)

    wrong = marketer.post(f"/campaigns/{campaign.pk}/steps/{points}/", {
        "kind": "add_points", "points": "lots"})
    assert wrong.status_code == 422
    assert "points" in wrong.content.decode()


def test_dragging_a_step_saves_its_place(marketer):
    campaign = new_campaign(marketer)
    wait = add(marketer, campaign, "wait")
    marketer.post(f"/campaigns/{campaign.pk}/steps/{wait}/place", {"x": "300", "y": "140"})
    assert (graph(campaign)[wait]["x"], graph(campaign)[wait]["y"]) == (300, 140)
    page = marketer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'transform="translate(300,140)"' in page


def test_deleting_a_step_where_leads_wait_asks_where_they_go(marketer, make_lead):
    campaign = new_campaign(marketer)
    wait = add(marketer, campaign, "wait")
    after = add(marketer, campaign, "add_points", after=wait)
    marketer.post(f"/campaigns/{campaign.pk}/activate")
    campaign.refresh_from_db()
    lead = make_lead("wes@example.com")
    editor.enrol(marketer.user, campaign, lead_ids=[lead.pk])
    run_due_enrollments()

    page = marketer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "1 lead waits here: where does it go?" in page
    refused = marketer.post(f"/campaigns/{campaign.pk}/steps/{wait}/delete")
    assert refused.status_code == 409
    assert "1 lead stands at step 1" in refused.content.decode()

    moved = marketer.post(f"/campaigns/{campaign.pk}/steps/{wait}/delete",
                          {"move_to": str(after)})
    assert moved.status_code == 302
    assert not Step.objects.filter(campaign=campaign, position=wait).exists()
    clock.advance(timedelta(seconds=1))
    run_due_enrollments()
    assert Enrollment.objects.get(lead=lead).status == Enrollment.Status.COMPLETED


def test_settings_are_saved_from_the_form_and_errors_shown(marketer):
    campaign = new_campaign(marketer)
    answer = marketer.post(f"/campaigns/{campaign.pk}/", {
        "name": "Welcome", "entry_event_type": "signup", "goal_event_type": "purchase",
        "goal_conditions_field": ["range", ""], "goal_conditions_op": ["equals", "equals"],
        "goal_conditions_value": ["pans", ""], "reentry": "never", "reentry_amount": "",
        "reentry_unit": "days"})
    assert answer.status_code == 302
    campaign.refresh_from_db()
    assert campaign.goal_conditions == [{"field": "range", "op": "equals", "value": "pans"}]
    assert campaign.reentry == "never"

    wrong = marketer.post(f"/campaigns/{campaign.pk}/", {"name": "Welcome",
                                                         "entry_event_type": "Sign Up!",
                                                         "reentry": "never"})
    assert wrong.status_code == 422


def test_start_pause_and_archive_buttons(marketer):
    campaign = new_campaign(marketer)
    assert marketer.post(f"/campaigns/{campaign.pk}/activate").status_code == 409  # no step
    add(marketer, campaign, "wait")
    marketer.post(f"/campaigns/{campaign.pk}/activate")
    campaign.refresh_from_db()
    assert campaign.active
    marketer.post(f"/campaigns/{campaign.pk}/archive")
    assert "Welcome" not in marketer.get("/campaigns/").content.decode()
    assert "Welcome" in marketer.get("/campaigns/?archived=1").content.decode()


def test_sales_reps_do_not_see_the_builder(make_user):
    rep = make_user("rex", Role.SALES_REP)
    client = Client()
    client.force_login(rep)
    assert client.get("/campaigns/").status_code == 403
    assert 'href="/campaigns/"' not in client.get("/").content.decode()


def test_the_builder_page_reads_in_french(marketer):
    campaign = new_campaign(marketer)
    add(marketer, campaign, "wait")
    page = marketer.get(f"/campaigns/{campaign.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ajouter une étape à la fin" in page
    assert "Attendre 1 jour" in page


def test_the_builder_warns_when_a_path_end_now_leads_on_to_a_new_step(marketer):
    campaign = new_campaign(marketer)
    decide = add(marketer, campaign, "if_event")
    yes = add(marketer, campaign, "add_points", after=decide)
    answer = marketer.post(f"/campaigns/{campaign.pk}/steps/add",
                           {"kind": "add_points", "after": decide, "branch": "no"},
                           follow=True)
    assert f"Step {yes} now goes on to step {yes + 1}" in answer.content.decode()
