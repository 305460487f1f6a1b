"""Issue 3's browser test: a landing site (served here, on its own origin) carries the
tracking snippet and an embedded form. A visitor views three pages anonymously, submits
the form, and the lead has the three page views and the submission on its timeline, in
the database and on its lead page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from leadflow.capture.models import Form
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, TrackingSite
from tests.browser.conftest import customer_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Headless Chromium says "HeadlessChrome", which the crawler list (rightly) calls a bot:
# the visitor here is a person on an ordinary Chrome.
PERSON_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script>window.leadflow=window.leadflow||function(){{(leadflow.q=leadflow.q||[]).push(arguments)}};</script>
<script src="{leadflow}/t/lf.js" data-site="{key}" async></script></head>
<body><h1>{title}</h1>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/signup">Sign up</a></nav>
{body}</body></html>"""
FORM = ('<div data-leadflow-form="newsletter"></div>'
        '<script src="{leadflow}/f/newsletter/embed.js" async></script>')
TITLES = {"/": "Acme home", "/pricing": "Acme pricing", "/signup": "Sign up to Acme"}


@pytest.fixture
def landing_site(live_server) -> Iterator[str]:
    """The customer's website: three pages on 127.0.0.1 (Leadflow is on localhost)."""
    site = TrackingSite.objects.create(name="Acme", key="lf_acme", allowed_domains="127.0.0.1")

    def page_for(path: str) -> str | None:
        if path not in TITLES:
            return None
        body = FORM.format(leadflow=live_server.url) if path == "/signup" else ""
        return PAGE.format(title=TITLES[path], leadflow=live_server.url, key=site.key,
                           body=body)

    with customer_site(page_for) as url:
        yield url


def _wait_for(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_anonymous_visits_then_a_form_submit_make_one_lead_with_the_whole_history(
        browser, live_server, landing_site, admin_user, screenshot, settings):
    from playwright.sync_api import expect

    # The embed submits to the form's public address, BASE_URL: here, the live server.
    settings.BASE_URL = live_server.url

    Form.objects.create(name="Newsletter", slug="newsletter", title="Our newsletter",
                        event_type="newsletter_signup", thank_you="Welcome aboard!")
    visitor = browser.new_context(user_agent=PERSON_UA, locale="en-US",
                                  viewport={"width": 1200, "height": 800})
    page = visitor.new_page()
    page.set_default_timeout(15_000)
    page_views = Event.objects.filter(type="page_view")

    for count, path in enumerate(["/", "/pricing", "/signup"], start=1):
        page.goto(landing_site + path + ("?utm_source=ads" if path == "/" else ""))
        expect(page.get_by_role("heading", level=1)).to_have_text(TITLES[path])
        _wait_for(lambda n=count: page_views.count() == n, f"page view {count}")
    cookie = next(c for c in visitor.cookies() if c["name"] == "lf_vid")
    vid = cookie["value"]
    assert cookie["domain"] == "127.0.0.1" and cookie["sameSite"] == "Lax"
    assert set(page_views.values_list("visitor_id", flat=True)) == {vid}
    assert not page_views.exclude(lead=None).exists()  # anonymous so far
    assert not Lead.objects.exists()

    page.locator("input[name=email]").wait_for()
    screenshot(page, "capture-01-landing-form")
    page.locator("input[name=email]").fill("ana.lima@acme.example")
    clock.advance(timedelta(minutes=1))  # a person takes longer than the minimum fill time
    page.locator("[data-leadflow-form] button[type=submit]").click()
    expect(page.locator(".leadflow-thanks")).to_contain_text("Welcome aboard!")
    screenshot(page, "capture-02-form-submitted")
    visitor.close()

    lead = Lead.objects.get(email="ana.lima@acme.example")
    views = lead.events.filter(type="page_view").order_by("occurred_at", "id")
    assert [e.properties["title"] for e in views] == list(TITLES.values())
    assert views[0].properties["utm_source"] == "ads"
    assert lead.events.filter(type="form_submitted").count() == 1
    assert not Event.objects.filter(visitor_id=vid, lead=None).exists()

    staff = browser.new_context(base_url=live_server.url, locale="en-US",
                                viewport={"width": 1366, "height": 900})
    ui = staff.new_page()
    ui.set_default_timeout(15_000)
    ui.goto("/login/")
    ui.get_by_label("Username").fill("boss")
    ui.get_by_label("Password").fill("pw-boss")
    ui.get_by_role("button", name="Sign in").click()
    ui.wait_for_url(re.compile(r"://[^/]+/$"))  # the home page
    ui.goto(f"/leads/{lead.pk}/")
    timeline = ui.locator("ol.timeline")
    expect(timeline.locator("li[data-type=page_view]")).to_have_count(3)
    expect(timeline.locator("li[data-type=form_submitted]")).to_have_count(1)
    screenshot(ui, "capture-03-lead-timeline")

    ui.goto("/tracking/")
    expect(ui.locator("[data-stat=page_views]")).to_have_text("3")
    expect(ui.locator("[data-site-key]")).to_have_text("lf_acme")
    screenshot(ui, "capture-04-tracking-settings")
    staff.close()
