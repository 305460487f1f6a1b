"""The lead magnet: a file uploaded with the form, delivered after submit through a
signed, expiring link (never a guessable URL)."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.core import clock

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 the white paper"


@pytest.fixture
def form(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(make_user("mia", Role.MARKETING))
    r = client.post("/forms/new/", {
        "name": "Guide", "slug": "guide", "title": "Our guide", "channel": "web",
        "active": "on", "lead_magnet": SimpleUploadedFile("guide.pdf", PDF)})
    assert r.status_code == 302
    return Form.objects.get()


def _download_link(form) -> str:
    page = Client().post("/f/guide/", {"email": "ana@example.com",
                                       "lf_token": aged_token(form.pk)}).content.decode()
    return re.search(r'href="http://[^/]+(/f/guide/download/[^"]+)"', page).group(1)


def test_the_upload_is_stored_under_media_root(form, tmp_path):
    assert (tmp_path / form.lead_magnet.name).read_bytes() == PDF


def test_the_thank_you_page_links_to_the_file(form):
    r = Client().get(_download_link(form))
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == PDF
    assert "attachment" in r["Content-Disposition"] and "guide" in r["Content-Disposition"]


def test_the_embed_submit_returns_the_link(form):
    r = Client().post("/f/guide/submit", {"email": "ana@example.com",
                                          "lf_token": aged_token(form.pk)},
                      content_type="application/json")
    assert "/f/guide/download/" in r.json()["download_url"]


def test_the_link_expires(form):
    link = _download_link(form)
    clock.advance(timedelta(days=8))
    assert Client().get(link).status_code == 404


def test_a_forged_or_tampered_link_is_404(form):
    link = _download_link(form)
    assert Client().get(link.replace("/download/", "/download/x")).status_code == 404
    assert Client().get("/f/guide/download/guide.pdf/").status_code == 404


def test_a_link_of_another_form_does_not_deliver_this_file(form):
    Form.objects.create(name="Other", slug="other", title="Other", lead_magnet="x.pdf")
    token = _download_link(form).split("/download/")[1]
    assert Client().get(f"/f/other/download/{token}").status_code == 404


def test_without_a_file_there_is_no_link(form):
    Form.objects.filter(pk=form.pk).update(lead_magnet="")
    page = Client().post("/f/guide/", {"email": "ana@example.com",
                                       "lf_token": aged_token(form.pk)}).content.decode()
    assert "/download/" not in page
