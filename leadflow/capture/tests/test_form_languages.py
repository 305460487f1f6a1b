"""A hosted form's title, introduction, consent text, submit button and thank-you message
per language: the visitor's language (?lang=, the language cookie, Accept-Language) picks
them, falling back to the form's own texts; consent records the text shown."""

import pytest
from django.conf import settings as django_settings
from django.test import Client

from leadflow.accounts.models import User
from leadflow.capture import builder
from leadflow.capture.models import Form, FormConsentVersion
from leadflow.capture.tests.conftest import aged_token
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db

EN_CONSENT = "I agree to receive news."
FR_CONSENT = "J'accepte de recevoir des nouvelles."
SETTINGS = {"name": "News", "slug": "news", "channel": "web", "active": "on",
            "title": "Our newsletter", "intro": "Once a month.", "consent_text": EN_CONSENT,
            "thank_you": "Welcome!", "title_fr": "Notre lettre", "consent_text_fr": FR_CONSENT,
            "submit_label_fr": "Je m'inscris", "thank_you_fr": "Bienvenue !"}


@pytest.fixture
def form(marketer):
    assert marketer.post("/forms/new/", SETTINGS).status_code == 302
    return Form.objects.get()


def _page(**kwargs):
    query = kwargs.pop("query", "")
    return Client().get(f"/f/news/{query}", **kwargs).content.decode()


def test_the_builder_keeps_the_texts_per_language(form, marketer):
    assert form.translations == {"fr": {"title": "Notre lettre", "consent_text": FR_CONSENT,
                                        "submit_label": "Je m'inscris",
                                        "thank_you": "Bienvenue !"}}
    page = marketer.get(f"/forms/{form.pk}/").content.decode()
    assert 'name="title_fr" value="Notre lettre"' in page


@pytest.mark.parametrize("how", [{"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"},
                                 {"query": "?lang=fr"}, {"cookie": "fr"}])
def test_a_french_visitor_gets_the_french_texts(form, how):
    client = Client()
    if "cookie" in how:
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = how.pop("cookie")
    query = how.pop("query", "")
    page = client.get(f"/f/news/{query}", **how).content.decode()
    assert "<h1>Notre lettre</h1>" in page
    assert "J&#x27;accepte de recevoir des nouvelles." in page
    assert "Je m&#x27;inscris</button>" in page
    assert "Once a month." in page  # no French introduction: the form's own
    assert '<html lang="fr">' in page


def test_other_visitors_get_the_form_texts(form):
    page = _page(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert "<h1>Our newsletter</h1>" in page and EN_CONSENT in page
    assert ">Send</button>" in page
    assert "Notre lettre" not in _page(query="?lang=en", HTTP_ACCEPT_LANGUAGE="fr")


def test_the_consent_shown_in_french_is_the_one_recorded(form):
    r = Client().post("/f/news/?lang=fr", {"email": "ana@example.com", "consent": "yes",
                                          "lf_token": aged_token(form.pk)})
    assert "Bienvenue !" in r.content.decode()
    consent = Lead.objects.get().consents.get()
    assert (consent.text, consent.text_version) == (FR_CONSENT, "v1")
    assert list(FormConsentVersion.objects.order_by("language")
                .values_list("version", "language", "text")) == [
        ("v1", "", EN_CONSENT), ("v1", "fr", FR_CONSENT)]


def test_changing_a_translated_consent_text_makes_a_new_version(form, marketer):
    marketer.post(f"/forms/{form.pk}/", {**SETTINGS, "consent_text_fr": "Oui, envoyez."})
    form.refresh_from_db()
    assert form.consent_version == "v2"
    assert set(FormConsentVersion.objects.filter(version="v2")
               .values_list("language", "text")) == {("", EN_CONSENT), ("fr", "Oui, envoyez.")}
    marketer.post(f"/forms/{form.pk}/", {**SETTINGS, "consent_text_fr": "Oui, envoyez."})
    form.refresh_from_db()
    assert form.consent_version == "v2"  # unchanged texts: no new version


def test_the_embed_definition_and_submit_speak_the_visitor_language(form):
    data = Client().get("/f/news/definition.json?lang=fr").json()
    assert (data["title"], data["submit_label"]) == ("Notre lettre", "Je m'inscris")
    assert data["consent"] == {"text": FR_CONSENT, "version": "v1"}
    r = Client().post("/f/news/submit?lang=fr", {"email": "ana@example.com",
                                                "lf_token": aged_token(form.pk)})
    assert r.json()["message"] == "Bienvenue !"


def test_an_unknown_language_in_the_texts_is_refused(form, marketer):
    r = marketer.post(f"/forms/{form.pk}/", {**SETTINGS, "title_fr": "x" * 201})
    assert r.status_code == 422 and "longer than 200 characters" in r.content.decode()
    mia = User.objects.get(username="mia")
    with pytest.raises(InvalidInput):
        builder.save_form(mia, form, {"translations": {"xx": {"title": "?"}}})
    with pytest.raises(InvalidInput):
        builder.save_form(mia, form, {"translations": {"fr": {"redirect_url": "?"}}})
