"""After submit, a redirect goes only to the form's allowed domains."""

import pytest
from django.test import Client

from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(db):
    return Form.objects.create(name="Demo", slug="demo", title="Demo", thank_you="Thanks!",
                               allowed_domains="example.com\nshop.example.org")


def _settings(url, domains="example.com\nshop.example.org"):
    return {"name": "Demo", "slug": "demo", "title": "Demo", "channel": "web",
            "redirect_url": url, "allowed_domains": domains}


@pytest.mark.parametrize("url", ["https://example.com/thanks", "https://www.example.com/t",
                                 "http://shop.example.org/ok?x=1"])
def test_a_redirect_on_an_allowed_domain_is_saved(marketer, form, url):
    r = marketer.post(f"/forms/{form.pk}/", _settings(url))
    assert r.status_code == 302
    form.refresh_from_db()
    assert form.redirect_url == url


@pytest.mark.parametrize("url", ["https://evil.net/x", "https://example.com.evil.net/",
                                 "https://notexample.com/", "https://example.org/",
                                 "https://user@evil.net@example.com/",
                                 "ftp://example.com/file"])
def test_a_redirect_elsewhere_is_refused_when_saving(marketer, form, url):
    r = marketer.post(f"/forms/{form.pk}/", _settings(url))
    assert r.status_code == 422
    form.refresh_from_db()
    assert form.redirect_url == ""


def test_without_allowed_domains_no_redirect_is_accepted(marketer, form):
    r = marketer.post(f"/forms/{form.pk}/", _settings("https://example.com/", domains=""))
    assert r.status_code == 422
    assert "allowed domains" in r.content.decode()


def test_the_visitor_is_redirected_after_submit(form):
    Form.objects.filter(pk=form.pk).update(redirect_url="https://www.example.com/thanks")
    r = Client().post("/f/demo/", {"email": "a@example.com", "lf_token": aged_token(form.pk)})
    assert r.status_code == 302
    assert r["Location"] == "https://www.example.com/thanks"
    assert Lead.objects.filter(email="a@example.com").exists()


def test_the_embed_submit_answers_with_the_redirect(form):
    Form.objects.filter(pk=form.pk).update(redirect_url="https://www.example.com/thanks")
    r = Client().post("/f/demo/submit", {"email": "a@example.com",
                                         "lf_token": aged_token(form.pk)},
                      content_type="application/json")
    assert r.json()["redirect"] == "https://www.example.com/thanks"


def test_a_redirect_no_longer_allowed_is_ignored_at_submit(form):
    # Stored before the allowed domains changed (or written around the builder).
    Form.objects.filter(pk=form.pk).update(redirect_url="https://evil.net/phish")
    r = Client().post("/f/demo/", {"email": "a@example.com", "lf_token": aged_token(form.pk)})
    assert r.status_code == 200
    assert "Thanks!" in r.content.decode()


def test_a_redirect_parameter_in_the_request_is_never_followed(form):
    r = Client().post("/f/demo/?next=https://evil.net/", {
        "email": "a@example.com", "redirect": "https://evil.net/", "next": "https://evil.net/",
        "lf_token": aged_token(form.pk)})
    assert r.status_code == 200
