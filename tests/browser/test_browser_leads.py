"""The leads pages in a real browser: sign in, search, open a lead, mark it won, French."""

from __future__ import annotations

import re

import pytest

from leadflow.leads.models import Category
from leadflow.leads.services import upsert_lead
from leadflow.routing.services import assign_lead
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.services import record_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rep_with_leads(make_user, admin_user):
    """Rita owns three leads with some history; Oscar owns one she must not see."""
    rita = make_user("rita", first_name="Rita", last_name="Reyes")
    oscar = make_user("oscar")
    ScoreRule.objects.create(name="Newsletter sign-up", event_type="newsletter_signup",
                             points=5, category=Category.ENGAGEMENT)
    ScoreRule.objects.create(name="Demo request", event_type="demo_requested", points=20,
                             category=Category.INTEREST)
    ScoreRule.objects.create(name="Decision maker", event_type="lead_created",
                             conditions=[{"field": "source", "op": "equals", "value": "linkedin"}],
                             points=10,
                             category=Category.FIT)
    people = [
        ("ana.lima@acme.example", "Ana", "Lima", "Acme", "CTO", "linkedin"),
        ("bruno.costa@globex.example", "Bruno", "Costa", "Globex", "Buyer", "google"),
        ("chloe.martin@initech.example", "Chloé", "Martin", "Initech", "CEO", "webinar"),
    ]
    leads = []
    for email, first, last, company, title, source in people:
        lead, _ = upsert_lead({"email": email, "first_name": first, "last_name": last,
                               "company_name": company, "title": title, "source": source,
                               "channel": "web", "country": "FR"}, route=False)
        assign_lead(lead, rita, reason="round-robin in North")
        leads.append(lead)
    ana = leads[0]
    record_event("page_view", lead=ana, properties={"url": "https://acme.example/pricing"})
    record_event("newsletter_signup", lead=ana, properties={"form": "newsletter"})
    record_event("email_opened", lead=ana, properties={"message_id": 1})
    record_event("demo_requested", lead=ana, properties={"form": "demo"})
    hidden, _ = upsert_lead({"email": "zoe@hidden.example", "first_name": "Zoe"}, route=False)
    assign_lead(hidden, oscar)
    return rita, ana


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))  # the home page
    page.goto("/leads/")


def test_rep_signs_in_searches_and_reads_a_lead_timeline(page, live_server, rep_with_leads,
                                                        screenshot):
    from playwright.sync_api import expect

    page.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "01-login")
    sign_in(page, "rita", "pw-rita")

    names = page.locator("td.cell-name a")
    expect(names).to_have_count(3)
    expect(page.get_by_text("Zoe")).to_have_count(0)
    expect(page.locator("header .brand")).to_have_text("Leadflow")
    screenshot(page, "02-leads-list")

    page.get_by_role("searchbox").fill("globex")
    expect(names).to_have_count(1)
    expect(names.first).to_have_text("Bruno Costa")
    expect(page).to_have_url(re.compile(r"/leads/\?q=globex"))
    screenshot(page, "03-leads-search")

    page.get_by_role("searchbox").fill("")
    expect(names).to_have_count(3)
    expect(names.first).to_have_text("Ana Lima")  # the hottest: 10 + 5 + 20 points
    names.first.click()
    page.wait_for_url(re.compile(r"/leads/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ana Lima")
    timeline = page.locator("ol.timeline li")
    expect(timeline.first).to_contain_text("Requested a demo")
    expect(timeline).to_have_count(6)
    expect(page.locator("ol.timeline")).to_contain_text("Viewed a page")
    expect(page.locator("ol.timeline")).to_contain_text("Assigned to Rita Reyes")
    expect(page.locator(".score-total")).to_have_text("35")
    screenshot(page, "04-lead-page")


def test_rep_marks_a_deal_won_and_reads_reports_in_french(page, live_server, rep_with_leads,
                                                        screenshot):
    from playwright.sync_api import expect

    _rita, ana = rep_with_leads
    sign_in(page, "rita", "pw-rita")
    page.goto(f"/leads/{ana.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Reason (optional)").fill("Signed the annual plan")
    page.get_by_role("button", name="Mark won").click()
    expect(page.locator(".msg-success")).to_contain_text("Ana Lima is marked as won.")
    expect(page.locator(".lead-kpis .badge")).to_have_text("Customer")
    expect(page.locator("ol.timeline li").first).to_contain_text("Deal won")
    screenshot(page, "05-lead-marked-won")

    page.get_by_role("link", name="Reports").click()
    expect(page.locator('[data-stat="total"]')).to_have_text("3")
    expect(page.locator('[data-stat="conversion"]')).to_have_text("33.3%")
    screenshot(page, "06-reports")

    page.locator(".langswitch button[value=fr]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapports")
    expect(page.locator('[data-stat="conversion"]')).to_have_text("33,3%")
    screenshot(page, "07-reports-fr")
    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("searchbox")).to_have_attribute(
        "placeholder", "Nom, e-mail, entreprise ou identifiant externe")
    screenshot(page, "08-leads-list-fr")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "09-leads-list-mobile")
