"""Content-Security-Policy on every HTML page: every GET route of the URL conf is fetched
(signed in as an administrator, and anonymously) and each HTML answer must carry a policy
that allows no inline script, and hold no inline script or event-handler attribute.
Leadflow's pages may not be framed; hosted forms may (customers' sites embed them)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from leadflow.capture.models import Form
from leadflow.core.tests.crawl import paths

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
HANDLER_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)


@pytest.fixture
def site(admin_user, make_lead):
    form = Form.objects.create(name="Demo", slug="demo", title="Demo", consent_text="Yes")
    lead = make_lead("ana@example.com")
    return paths({"slug": form.slug, "form_id": form.pk, "lead_id": lead.pk,
                  "object_id": admin_user.pk})


def _policy(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def _html_pages(client: Client, site: list[str]):
    for path in site:
        response = client.get(path)
        if response.get("Content-Type", "").startswith("text/html"):
            yield path, response


def _check(path: str, response) -> None:
    policy = _policy(response)
    assert "script-src" in policy, f"{path} has no Content-Security-Policy"
    assert "'unsafe-inline'" not in policy["script-src"], path
    assert "'unsafe-eval'" not in policy["script-src"], path
    body = response.content.decode()
    assert not INLINE_SCRIPT.search(body), f"{path} has an inline script"
    assert not HANDLER_ATTRIBUTE.search(body), f"{path} has an inline event handler"


def test_every_page_for_an_administrator_has_a_strict_policy(admin_user, site):
    client = Client()
    client.force_login(admin_user)
    checked = [path for path, response in _html_pages(client, site) if not _check(path,
                                                                                  response)]
    # The crawl really reached the pages (not only login redirects).
    for page in ("/leads/", "/reports/", "/forms/", "/audit/", "/api/v1/docs", "/admin/",
                 "/f/demo/", "/imports/", "/tracking/"):
        assert page in checked


def test_every_public_page_has_a_strict_policy(site):
    checked = [path for path, response in _html_pages(Client(), site) if not _check(path,
                                                                                   response)]
    assert {"/login/", "/f/demo/", "/u/x"} <= set(checked)


def test_leadflow_pages_may_not_be_framed(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert _policy(client.get("/leads/"))["frame-ancestors"] == "frame-ancestors 'none'"
    assert _policy(Client().get("/login/"))["frame-ancestors"] == "frame-ancestors 'none'"


def test_hosted_forms_may_be_framed_by_customer_sites(site):
    r = Client().get("/f/demo/?embed=1")
    assert r.status_code == 200 and "X-Frame-Options" not in r
    assert _policy(r)["frame-ancestors"] == "frame-ancestors *"
    assert "form-action" not in _policy(r)  # a thank-you redirect may go to their site
    assert "'unsafe-inline'" not in _policy(r)["script-src"]
