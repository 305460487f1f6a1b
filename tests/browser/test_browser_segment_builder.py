"""The segment builder in a browser: a marketer opens Segments from the menu, builds a
filter from groups and conditions, and the live count follows each change (the preview
API); the segment is saved with the filter as built, and a worker counts its members
(the test settings run the wake-up task at once; its page says "Counting…" until then and
shows the count without a reload)."""

from __future__ import annotations

import re

import pytest

from leadflow.accounts.models import Role
from leadflow.core import clock, workqueue
from leadflow.leads.services import upsert_lead
from leadflow.segments import builds
from leadflow.segments.models import Segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))


def test_changing_a_filter_updates_the_live_count(page, make_user, screenshot):
    from playwright.sync_api import expect

    make_user("mia", Role.MARKETING)
    for i, country in enumerate(["FR", "FR", "DE"]):
        upsert_lead({"email": f"p{i}@example.com", "country": country})
    _sign_in(page, "mia")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    page.get_by_label("Name", exact=True).fill("France")

    count = page.locator("#preview-count")
    expect(count).to_have_attribute("data-count", "3")  # an empty "all of": every lead
    page.get_by_role("button", name="Add a condition").click()
    leaf = page.locator(".seg-leaf").first
    leaf.get_by_label("Field", exact=True).fill("country")
    leaf.get_by_label("Value").fill("fr")
    expect(count).to_have_attribute("data-count", "2")
    leaf.get_by_label("Value").fill("DE")
    expect(count).to_have_attribute("data-count", "1")
    expect(page.locator("#preview-sample li")).to_have_count(1)
    screenshot(page, "segment-builder")

    page.locator(".seg-head select").first.select_option("not")
    expect(count).to_have_attribute("data-count", "2")
    page.get_by_role("button", name="Create the segment").click()
    page.wait_for_url("**/segments/*/")
    segment = Segment.objects.get()
    assert segment.filter == {"not": {"field": "country", "op": "equals", "value": "DE"}}
    assert (segment.build_state, segment.member_count) == ("built", 2)
    expect(page.locator("#segment-count")).to_have_text("2 members you may see")


def test_the_segment_page_counts_once_a_worker_has_built_it(page, make_user, monkeypatch):
    from playwright.sync_api import expect

    make_user("mia", Role.MARKETING)
    for i in range(2):
        upsert_lead({"email": f"p{i}@example.com", "country": "FR"})
    monkeypatch.setenv("LEADFLOW_FAILPOINT", "segment.rebuild:raise")  # the first try breaks
    _sign_in(page, "mia")
    page.goto("/segments/new/")
    page.get_by_label("Name", exact=True).fill("France")
    page.get_by_role("button", name="Add a condition").click()
    leaf = page.locator(".seg-leaf").first
    leaf.get_by_label("Field", exact=True).fill("country")
    leaf.get_by_label("Value").fill("FR")
    expect(page.locator("#preview-count")).to_have_attribute("data-count", "2")
    page.get_by_role("button", name="Create the segment").click()
    page.wait_for_url("**/segments/*/")

    count = page.locator("#segment-count")
    expect(count).to_have_text("Counting…")
    expect(page.locator("#segment-build")).to_contain_text("tried again shortly")
    monkeypatch.delenv("LEADFLOW_FAILPOINT")
    clock.advance(workqueue.BACKOFF_MAX)
    assert builds.run_due() == 1  # a worker's tick

    expect(count).to_have_text("2 members you may see")  # the page refreshed itself
    expect(page.locator("#segment-build")).to_have_count(0)
