"""The campaign builder in a browser: a marketer opens Campaigns from the menu, creates a
campaign, builds points → "did something?" → no: exit / yes: more points by selecting
steps in the graph and adding after them, edits and drags a step, starts the campaign,
and reads each step's statistics on the graph once leads have walked it."""

from __future__ import annotations

import re

import pytest

from leadflow.accounts.models import Role
from leadflow.campaigns.models import Campaign, Step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))


def _add_after(page, position: int, kind: str, branch: str | None = None) -> None:
    from playwright.sync_api import expect

    nodes = page.locator(".campaign-graph .node")
    before = nodes.count()
    page.locator(f'.campaign-graph .node[data-position="{position}"]').click()
    panel = page.locator(f"#step-{position}")
    expect(panel).to_be_visible()
    panel.get_by_label("Kind of step").select_option(label=kind)
    if branch:
        panel.get_by_label("Branch").select_option(label=branch)
    panel.get_by_role("button", name="Add after this step").click()
    expect(nodes).to_have_count(before + 1)


def test_build_a_campaign_with_a_decision_and_read_its_statistics(page, make_user, make_lead,
                                                                    screenshot):
    from playwright.sync_api import expect

    from leadflow.campaigns import editor
    from leadflow.campaigns.engine import run_due_enrollments
    from leadflow.tracking.services import record_event

    mia = make_user("mia", Role.MARKETING)
    _sign_in(page, "mia")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Campaigns").click()
    page.get_by_label("Name").fill("Buyers")
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url("**/campaigns/*/")

    page.locator(".step-add-end").get_by_label("Kind of step").select_option(label="Add points")
    page.get_by_role("button", name="Add a step at the end").click()
    expect(page.locator(".campaign-graph .node")).to_have_count(1)
    _add_after(page, 1, "Did something?")
    # The no path ends with an exit; the yes path, added last, ends the campaign.
    _add_after(page, 2, "Exit the campaign", branch="on no")
    _add_after(page, 2, "Add points", branch="on yes")

    graph = page.locator(".campaign-graph")
    expect(graph.locator(".edge-label.edge-yes")).to_have_text("yes")
    expect(graph.locator(".edge-label.edge-no")).to_have_text("no")
    expect(graph.locator('.node[data-position="2"]')).to_contain_text("purchase, within 3 days")

    # The side panel edits the selected step: 20 points on yes.
    graph.locator('.node[data-position="4"]').click()
    panel = page.locator("#step-4")
    panel.get_by_label("Points (negative: taken away)").fill("20")
    panel.get_by_role("button", name="Save step").click()
    expect(graph.locator('.node[data-position="4"]')).to_contain_text("+20 points")

    # Dragged, the exit step stays where it was dropped.
    exit_node = graph.locator('.node[data-position="3"] rect')
    box = exit_node.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 60, steps=5)
    page.mouse.up()
    expect(page.locator(".campaign-graph .node[data-position='3']")).to_have_attribute(
        "transform", re.compile(r"translate\(\d+,\d+\)"))
    page.wait_for_function("() => !document.querySelector('.node.dragging')")
    campaign = Campaign.objects.get(name="Buyers")
    step = Step.objects.get(campaign=campaign, position=3)
    assert step.x is not None and step.y is not None

    page.get_by_role("button", name="Start").click()
    expect(page.locator("h1")).to_contain_text("Running")

    # Three leads walk it: one buys, two wait at the decision.
    campaign.refresh_from_db()
    leads = [make_lead(f"buyer{i}@example.com") for i in range(3)]
    editor.enrol(mia, campaign, lead_ids=[lead.pk for lead in leads])
    run_due_enrollments()
    record_event("purchase", lead=leads[0], properties={"range": "pans"})
    run_due_enrollments()

    page.reload()
    stats = page.locator(".campaign-graph .node-stats")
    expect(stats.nth(0)).to_have_text("3 · 0 · 3 · 0 · 0")  # points: entered, passed
    expect(stats.nth(1)).to_have_text("3 · 2 · 1 · 0 · 0")  # the decision: 2 waiting
    expect(stats.nth(3)).to_have_text("1 · 0 · 1 · 0 · 0")  # yes: +20, then the end
    expect(page.locator(".campaign-totals")).to_contain_text("1 completed")
    expect(page.locator(".campaign-totals")).to_contain_text("2 in the campaign")
    screenshot(page, "campaign-builder")
