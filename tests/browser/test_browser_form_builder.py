"""The form builder in a browser: a marketer creates a form, adds a select question that
the live preview shows at once, and deleting a field asks for confirmation first. The
pages fit at 1440 and 390 px and the quick-add grid is aligned."""

from __future__ import annotations

import re

import pytest

from leadflow.accounts.models import Role
from leadflow.capture.models import Form
from leadflow.leads.models import CustomFieldDefinition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))  # the home page


def _fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    # What sticks out, to say where the overflow comes from when there is one.
    wide = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 8)
        .map(e => e.tagName + '.' + e.className)""", width)
    assert overflow <= 0, f"{overflow}px of horizontal overflow at {width}px: {wide}"


def test_build_a_form_with_a_select_question_preview_and_confirmed_delete(
        page, live_server, make_user, screenshot):
    from playwright.sync_api import expect

    make_user("mia", Role.MARKETING)
    _sign_in(page, "mia")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/forms/new/")
    page.get_by_label("Name", exact=True).fill("Demo request")
    page.get_by_label("Active").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/forms/*/")
    form = Form.objects.get()

    preview = page.frame_locator("iframe[name=form-preview]")
    expect(preview.get_by_role("heading", name="Demo request")).to_be_visible()
    expect(preview.get_by_label("Email")).to_be_visible()
    # The email field tells who the lead is: its delete button is disabled, and says why.
    email_row = page.locator("tr", has_text="email")
    expect(email_row.get_by_role("button", name="Delete")).to_be_disabled()

    adder = page.locator("#add-question")
    adder.get_by_label("Question (English)").fill("Team size")
    adder.get_by_label("Question (Français)").fill("Taille de l'équipe")
    adder.get_by_label("Answer").select_option(label="Choice")
    adder.get_by_label("Choices (one per line)").fill("1-10\n11-50\n51+")
    adder.get_by_role("button", name="Add question").click()
    expect(page.locator("p.msg-success")).to_have_text("Question added.")
    expect(preview.get_by_label("Team size")).to_be_visible()
    expect(preview.get_by_label("Team size").locator("option")).to_have_text(
        ["", "1-10", "11-50", "51+"])
    assert CustomFieldDefinition.objects.get().type == "choice"
    screenshot(page, "form-builder-01-question-added")
    _fits(page, 1440)

    # The preview switches language without leaving the builder.
    page.locator(".builder-preview-langs a", has_text="FR").click()
    expect(preview.get_by_label("Taille de l'équipe")).to_be_visible()

    row = page.locator("tr", has_text="Team size")
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    row.get_by_role("button", name="Delete").click()
    assert dialogs and "Team size" in dialogs[0]
    expect(row).to_be_visible()
    assert form.fields.filter(key="team_size").exists()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("tr", has_text="Team size")).to_have_count(0)
    expect(preview.get_by_label("Team size")).to_have_count(0)
    assert not form.fields.filter(key="team_size").exists()

    _fits(page, 390)
    screenshot(page, "form-builder-02-narrow")

    page.context.add_cookies([{"name": "django_language", "value": "fr",
                               "url": live_server.url}])
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"/forms/{form.pk}/")
    expect(page.get_by_role("heading", name="Champs")).to_be_visible()
    expect(preview.get_by_label("E-mail", exact=True)).to_be_visible()
    _fits(page, 1440)
    screenshot(page, "form-builder-03-french")


def test_the_quick_add_grid_is_aligned(page, make_user, screenshot):
    make_user("rita", Role.SALES_REP)
    _sign_in(page, "rita")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/capture/quick-add/")
    tops = page.evaluate("""() => [...document.querySelectorAll('.form-grid > .field')]
        .map(f => [f.getBoundingClientRect().top, f.querySelector('input,select,textarea')
        .getBoundingClientRect().top])""")
    rows: dict[float, set[float]] = {}
    for label_top, input_top in tops:
        rows.setdefault(round(label_top), set()).add(round(input_top))
    assert len(rows) > 1
    assert all(len(inputs) == 1 for inputs in rows.values()), rows  # inputs line up
    screenshot(page, "quick-add-01-grid")
    _fits(page, 1440)
    _fits(page, 390)
