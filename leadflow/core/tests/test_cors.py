"""CORS only where documented: the tracking endpoints (/t/) and the capture form's
definition and submit endpoints answer other sites' scripts; every other route, pages and
API alike, grants no cross-origin access, to a GET or a preflight, signed in or not."""

from __future__ import annotations

import pytest
from django.test import Client

from leadflow.capture.models import Form
from leadflow.core.tests.crawl import paths

pytestmark = pytest.mark.django_db

ORIGIN = "https://attacker.example"
DOCUMENTED = {"/f/demo/definition.json", "/f/demo/submit", "/f/demo/embed.js"}


def _documented(path: str) -> bool:
    return path.startswith("/t/") or path in DOCUMENTED


@pytest.fixture
def site(admin_user, make_lead):
    form = Form.objects.create(name="Demo", slug="demo", title="Demo")
    lead = make_lead("ana@example.com")
    return paths({"slug": form.slug, "form_id": form.pk, "lead_id": lead.pk,
                  "object_id": admin_user.pk})


def _granting(client: Client, site: list[str]) -> set[str]:
    granted = set()
    for path in site:
        for response in (client.get(path, HTTP_ORIGIN=ORIGIN),
                         client.options(path, HTTP_ORIGIN=ORIGIN,
                                        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")):
            if response.has_header("Access-Control-Allow-Origin"):
                granted.add(path)
    return granted


def test_only_documented_routes_answer_with_cors(admin_user, site):
    signed_in = Client()
    signed_in.force_login(admin_user)
    for client in (Client(), signed_in):
        granted = _granting(client, site)
        assert {p for p in granted if not _documented(p)} == set()
    assert _granting(Client(), site) >= DOCUMENTED


def test_the_api_grants_no_cross_origin_read_with_a_token(api):
    r = api.client.get("/api/v1/leads", HTTP_ORIGIN=ORIGIN, **api.auth)
    assert r.status_code == 200 and not r.has_header("Access-Control-Allow-Origin")
