"""The rule editor in a browser: a marketer opens Scoring from the menu, builds a rule with
two conditions (removing and adding rows), previews its impact, then saves it choosing
not to run hand-offs, and sees the re-score's result."""

from __future__ import annotations

import re

import pytest

from leadflow.accounts.models import Role
from leadflow.scoring.models import ScoreRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))


def test_create_a_rule_with_two_conditions_preview_and_save(page, make_user, screenshot):
    from playwright.sync_api import expect

    make_user("mia", Role.MARKETING)
    _sign_in(page, "mia")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Scoring").click()
    page.get_by_role("link", name="New rule").click()

    page.get_by_label("Name", exact=True).fill("Pricing page")
    page.get_by_label("Event type").fill("page_view")
    rows = page.locator(".cond-row")
    rows.nth(0).get_by_label("Field").fill("url")
    rows.nth(0).get_by_label("Operator").select_option("contains")
    rows.nth(0).get_by_label("Value").fill("/pricing")
    rows.nth(1).get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Add a condition").click()
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_label("Field").fill("title")
    rows.nth(1).get_by_label("Operator").select_option("starts_with")
    rows.nth(1).get_by_label("Value").fill("Pricing")
    page.get_by_label("Points", exact=True).fill("15")
    page.get_by_label("once").check()

    page.get_by_role("button", name="Preview impact").click()
    expect(page.locator("#preview-result")).to_contain_text("would change score")
    expect(page.locator(".cond-row input[name=cond_value]").nth(1)).to_have_value("Pricing")
    assert not ScoreRule.objects.exists()
    screenshot(page, "rule-editor-preview")

    page.get_by_label("only change their stage").check()
    page.get_by_role("button", name="Save and re-score").click()
    page.wait_for_url("**/scoring/rescores/*/")
    expect(page.get_by_role("status").filter(has_text="re-scored")).to_be_visible()
    rule = ScoreRule.objects.get()
    assert [c["field"] for c in rule.conditions] == ["url", "title"]
    assert rule.max_times == 1
