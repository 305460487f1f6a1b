"""The Content-Security-Policy in a real Chromium: the signed-in pages, the API docs and a
hosted form framed by a customer's site work, and the browser reports no violation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from leadflow.accounts.models import Role, User
from leadflow.capture.models import Form
from tests.browser.conftest import customer_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-unusual-passphrase"


def _violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda msg: found.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return found


@pytest.fixture
def framing_site(live_server) -> Iterator[str]:
    """The customer's page (its own origin) framing the hosted form."""
    html = (f'<!doctype html><title>Acme</title><h1>Acme</h1>'
            f'<iframe src="{live_server.url}/f/demo/?embed=1" title="Demo"></iframe>')
    with customer_site(lambda path: html) as url:
        yield f"{url}/landing"


def test_signed_in_pages_and_the_api_docs_work_under_the_policy(page):
    User.objects.create_user("ada", password=PASSWORD, role=Role.ADMIN, is_staff=True,
                             is_superuser=True)
    violations = _violations(page)
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))  # the home page
    for path in ("/", "/account/", "/leads/", "/reports/", "/forms/", "/audit/", "/admin/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.classList.contains('js')") or \
            path == "/admin/"  # leadflow.js ran: a same-origin script is allowed
    page.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Leadflow API" in page.locator(".swagger-ui .info .title").inner_text()
    assert violations == []


def test_a_customer_site_frames_the_hosted_form(page, framing_site):
    Form.objects.create(name="Demo", slug="demo", title="Demo")
    violations = _violations(page)
    page.goto(framing_site)
    frame = page.frame_locator("iframe")
    frame.locator('input[name="email"]').wait_for()
    # form.js (a static script, allowed) recorded the framing site as the consent page
    # (the browser sends another origin only the referrer's origin).
    origin = framing_site.removesuffix("landing")
    assert frame.locator('input[name="page_url"]').input_value() == origin
    assert violations == []
