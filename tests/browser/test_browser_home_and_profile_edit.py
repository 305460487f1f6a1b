"""The home page and the profile edit in a real browser, in English and French, at a
desktop and a phone width: what a person sees, and nothing overflowing its box."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leadflow.core import clock
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.leads.stages import Stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": 1440, "phone": 390}


@pytest.fixture
def leads(admin_user):
    CustomFieldDefinition.objects.create(key="team_size", label="Team size",
                                         type=CustomFieldDefinition.Type.CHOICE,
                                         choices=["1-10", "11-50", "51+"])
    now = clock.now()
    made = []
    for i, (first, last, stage, score) in enumerate((
            ("Ana", "Lima", Stage.MQL, 62), ("Bruno", "Costa", Stage.SAL, 48),
            ("Chloé", "Martin", Stage.LEAD, 12), ("Dmitri", "Ivanov", Stage.CUSTOMER, 90))):
        with clock.travel(now - timedelta(days=i * 3, hours=i)):
            lead, _ = upsert_lead({
                "email": f"{last.lower()}@example.com", "first_name": first,
                "last_name": last, "company_name": "Acme", "phone": "+33612345678",
                "country": "FR", "custom": {"team_size": "11-50"}}, route=False)
        Lead.objects.filter(pk=lead.pk).update(stage=stage, score=score)
        made.append(lead)
    record_consent(made[0], granted=True, method="form", text_version="2026-01",
                   purpose="marketing_email")
    return made


def sign_in(page) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("pw-boss")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))


def overflows(page, selector: str = "html") -> bool:
    return page.evaluate(
        "s => [...document.querySelectorAll(s)].some(e => e.scrollWidth > e.clientWidth + 1)",
        selector)


def test_home_page_in_both_languages_and_widths(page, leads, screenshot):
    from playwright.sync_api import expect

    sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.locator('[data-stat="today"]')).to_have_text("1")
    expect(page.locator('[data-stat="hot"]')).to_have_text("2")
    expect(page.locator("#hot-leads li a")).to_have_text(["Ana Lima", "Bruno Costa"])
    expect(page.locator("svg.day-chart rect")).to_have_count(30)
    for lang in ("en", "fr"):
        if lang == "fr":
            page.locator(".langswitch button[value=fr]").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Accueil")
        for name, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            assert not overflows(page), (lang, name)
            screenshot(page, f"home-{lang}-{name}")


def test_editing_the_phone_from_the_lead_page(page, leads, screenshot):
    from playwright.sync_api import expect

    ana = leads[0]
    sign_in(page)
    page.goto(f"/leads/{ana.pk}/")
    expect(page.locator("#custom-answers")).to_contain_text("Team size")
    expect(page.locator("#custom-answers")).to_contain_text("11-50")
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        assert not overflows(page, "#consent-ledger, #consent-ledger *"), name
        assert not overflows(page), name
        screenshot(page, f"lead-page-en-{name}")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url(re.compile(r"/edit$"))
    page.get_by_label("Phone").fill("06 98 76 54 32")
    page.get_by_label("Team size").select_option("51+")
    screenshot(page, "lead-edit-en-desktop")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/leads/\d+/$"))
    expect(page.locator(".msg-success")).to_contain_text("Profile saved.")
    first = page.locator("ol.timeline li").first
    expect(first).to_contain_text("Profile edited: phone, Team size")
    expect(first).to_contain_text("+33612345678 → +33698765432")
    expect(page.locator("#custom-answers")).to_contain_text("51+")
    screenshot(page, "lead-edited-en-desktop")

    page.locator(".langswitch button[value=fr]").click()
    expect(page.locator("ol.timeline li").first).to_contain_text("Profil modifié")
    page.set_viewport_size({"width": 390, "height": 900})
    assert not overflows(page, "#consent-ledger, #consent-ledger *")
    screenshot(page, "lead-edited-fr-phone")
    page.get_by_role("link", name="Modifier", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifier le profil")
    screenshot(page, "lead-edit-fr-phone")


def test_the_admin_wears_leadflows_header_and_leads_back(page, admin_user, screenshot):
    from playwright.sync_api import expect

    sign_in(page)
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_have_text("Leadflow administration")
    screenshot(page, "admin-en-desktop")
    page.get_by_role("link", name="‹ Back to Leadflow").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
