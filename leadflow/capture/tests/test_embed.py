"""The embed snippet (embed.js, definition.json, submit) and the iframe."""

import json

import pytest
from django.test import Client

from leadflow.capture.models import Form, FormField
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Lead
from leadflow.tracking.services import record_event
from leadflow.tracking.visitors import get_or_create_visitor

pytestmark = pytest.mark.django_db

ORIGIN = {"HTTP_ORIGIN": "https://www.customer.example"}


@pytest.fixture
def form(db):
    form = Form.objects.create(name="News", slug="news", title="Newsletter",
                               thank_you="Welcome!", consent_text="Send me news.",
                               consent_version="v1", event_type="newsletter_signup")
    FormField.objects.create(form=form, key="email", lead_field="email", type="email",
                             required=True, position=1,
                             labels={"en": "Email", "fr": "Adresse e-mail"})
    FormField.objects.create(form=form, key="company", lead_field="company_name",
                             position=2, labels={"en": "Company", "fr": "Société"})
    return form


@pytest.fixture
def site():
    return Client(enforce_csrf_checks=True)  # like a browser on another site: no CSRF


def test_embed_js_is_served_as_javascript(site, form):
    r = site.get("/f/news/embed.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    body = r.content.decode()
    assert "data-leadflow-form" in body and "definition.json" in body and "lf_vid" in body
    assert "innerHTML" not in body  # texts are set with textContent


def test_the_definition_is_json_with_cors_for_any_origin(site, form, settings):
    r = site.get("/f/news/definition.json", **ORIGIN)
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == "*"
    data = r.json()
    assert [f["key"] for f in data["fields"]] == ["email", "company"]
    assert data["fields"][0] == {"key": "email", "type": "email", "label": "Email",
                                 "required": True, "choices": []}
    assert data["consent"] == {"text": "Send me news.", "version": "v1"}
    assert data["honeypot"] == "website" and data["token"]
    assert data["submit_url"] == settings.BASE_URL + "/f/news/submit"


@pytest.mark.parametrize("headers, query", [({"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}, ""),
                                            ({}, "?lang=fr")])
def test_the_definition_is_in_the_visitor_language(site, form, headers, query):
    data = site.get("/f/news/definition.json" + query, **headers).json()
    assert data["lang"] == "fr"
    assert [f["label"] for f in data["fields"]] == ["Adresse e-mail", "Société"]


def test_an_unknown_form_definition_is_404_json(site, form):
    r = site.get("/f/nope/definition.json")
    assert r.status_code == 404 and r.json()["ok"] is False


def test_the_preflight_allows_a_json_post_from_any_origin(site, form):
    r = site.options("/f/news/submit", **ORIGIN,
                     HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                     HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert r.status_code == 204
    assert r["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r["Access-Control-Allow-Methods"]
    assert "Content-Type" in r["Access-Control-Allow-Headers"]


def test_a_cross_origin_json_submit_works_without_csrf(site, form, score_rules):
    body = {"email": "ana@example.com", "company": "Acme", "consent": "yes",
            "lf_token": aged_token(form.pk), "page_url": "https://www.customer.example/p"}
    r = site.post("/f/news/submit", json.dumps(body), content_type="application/json",
                  REMOTE_ADDR="198.51.100.4", **ORIGIN)
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == "*"
    assert r.json()["ok"] is True and r.json()["message"] == "Welcome!"
    lead = Lead.objects.get()
    assert (lead.email, lead.company_name, lead.score) == ("ana@example.com", "Acme", 5)
    consent = lead.consents.get()
    assert (consent.page_url, consent.ip) == ("https://www.customer.example/p", "198.51.100.4")


def test_a_form_encoded_submit_works_too(site, form):
    r = site.post("/f/news/submit", {"email": "ana@example.com",
                                     "lf_token": aged_token(form.pk)}, **ORIGIN)
    assert r.status_code == 200 and r.json()["ok"] is True
    assert Lead.objects.filter(email="ana@example.com").exists()


def test_an_invalid_submit_answers_json_with_the_message(site, form):
    r = site.post("/f/news/submit", json.dumps({"email": "nope",
                                                "lf_token": aged_token(form.pk)}),
                  content_type="application/json", **ORIGIN)
    assert r.status_code == 422
    assert r["Access-Control-Allow-Origin"] == "*"
    assert r.json()["field"] == "email" and "not a valid email" in r.json()["message"]


def test_a_bad_json_body_is_422(site, form):
    r = site.post("/f/news/submit", "[1,", content_type="application/json")
    assert r.status_code == 422 and r.json()["ok"] is False


def test_the_visitor_id_links_the_anonymous_history(site, form):
    visitor = get_or_create_visitor("abcdef123456")
    record_event("page_view", visitor_id="abcdef123456", properties={"url": "/pricing"})
    r = site.post("/f/news/submit", json.dumps({"email": "ana@example.com",
                                                "lf_token": aged_token(form.pk),
                                                "lf_vid": "abcdef123456"}),
                  content_type="application/json")
    assert r.status_code == 200
    lead = Lead.objects.get()
    visitor.refresh_from_db()
    assert visitor.lead == lead
    assert lead.events.filter(type="page_view").count() == 1


def test_the_iframe_page_can_be_framed_and_has_minimal_chrome(site, form):
    r = site.get("/f/news/?embed=1")
    assert r.status_code == 200
    assert "X-Frame-Options" not in r.headers
    assert "<h1>" not in r.content.decode()


def test_a_post_from_the_iframe_needs_no_csrf_cookie(site, form):
    r = site.post("/f/news/?embed=1", {"email": "ana@example.com",
                                       "lf_token": aged_token(form.pk)})
    assert r.status_code == 200
    assert Lead.objects.filter(email="ana@example.com").exists()
