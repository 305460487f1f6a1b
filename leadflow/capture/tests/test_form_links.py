"""Every address of a form that leaves Leadflow (the hosted page, the snippets, the API's
URLs, the embed's submit address, download and opt-in links, the consent proof) comes from
settings.BASE_URL, which follows LEADFLOW_PORT: never from a fixed host or port, nor from
the host a request happened to use."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.emails.models import EmailMessage
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

BASE = "http://127.0.0.1:8111"


@pytest.fixture(autouse=True)
def _other_port(settings, tmp_path):
    settings.BASE_URL = BASE
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def form(marketer):
    r = marketer.post("/forms/new/", {
        "name": "Guide", "slug": "guide", "title": "Our guide", "channel": "web",
        "active": "on", "consent_text": "Yes, send news.", "double_opt_in": "on",
        "lead_magnet": SimpleUploadedFile("guide.pdf", b"%PDF-1.4 guide")})
    assert r.status_code == 302
    return Form.objects.get()


def _urls(text: str) -> set[str]:
    return {u.rstrip("/") for u in re.findall(r"https?://[^\s\"'<>&]+", text)}


def test_the_builder_page_links_and_snippets_follow_base_url(marketer, form):
    page = marketer.get(f"/forms/{form.pk}/", HTTP_HOST="internal:8000").content.decode()
    assert f'<a href="{BASE}/f/guide/">{BASE}/f/guide/</a>' in page
    assert f"{BASE}/f/guide/embed.js" in page and f"{BASE}/f/guide/?embed=1" in page
    assert not [u for u in _urls(page) if u.startswith(("http://127", "http://internal",
                                                        "http://localhost"))
                and not u.startswith(BASE)]


def test_the_form_list_links_follow_base_url(marketer, form):
    page = marketer.get("/forms/", HTTP_HOST="internal:8000").content.decode()
    assert f'<a href="{BASE}/f/guide/">{BASE}/f/guide/</a>' in page


def test_the_api_urls_follow_base_url(make_user, api_for, form):
    [row] = api_for(make_user("ann", Role.ADMIN)).get("/forms").json()
    assert (row["hosted_url"], row["definition_url"], row["embed_script_url"]) == (
        f"{BASE}/f/guide/", f"{BASE}/f/guide/definition.json", f"{BASE}/f/guide/embed.js")


def test_the_embed_definition_submits_to_base_url(form):
    data = Client().get("/f/guide/definition.json", HTTP_HOST="internal:8000").json()
    assert data["submit_url"] == f"{BASE}/f/guide/submit"


def test_download_confirmation_and_consent_proof_follow_base_url(form, smtp_server):
    r = Client().post("/f/guide/", {"email": "ana@example.com", "consent": "yes",
                                    "lf_token": aged_token(form.pk)},
                      HTTP_HOST="internal:8000")
    assert f'href="{BASE}/f/guide/download/' in r.content.decode()
    lead = Lead.objects.get()
    assert lead.consents.get().page_url == f"{BASE}/f/guide/"

    # The worker renders the opt-in email, and keeps what it sent.
    from leadflow.emails.outbox import send_due

    send_due()
    links = _urls(EmailMessage.objects.get(lead=lead).body_text)
    assert any(u.startswith(f"{BASE}/f/confirm/") for u in links), links
    assert any(u.startswith(f"{BASE}/f/guide/download/") for u in links), links
