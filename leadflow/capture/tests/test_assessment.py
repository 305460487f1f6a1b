"""The interactive assessment (seed 003, "Smart Audit"), built in the form builder: weighted
answers add up to a maturity score, the respondent reads the recommendations of their
band in their language (hosted page and embed), the answers fill BANT and interest fields,
and the score becomes interest points, once per submission."""

import json

import pytest
from django.test import Client

from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.scoring.models import ScoreEntry
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db

BANDS = ("0 | Getting started | Premiers pas | Write your lead definition ; Map your funnel "
         "| Écrivez votre définition du lead ; Cartographiez votre tunnel\n"
         "40 | Advanced | Avancé | Automate the hand-off to sales | Automatisez le passage "
         "aux commerciaux\n")


@pytest.fixture
def audit(marketer):
    """A Smart Audit built through the builder's pages, as a marketer does."""
    CustomFieldDefinition.objects.create(key="topic", label="Topic", type="text")
    r = marketer.post("/forms/new/", {
        "name": "Smart Audit", "slug": "smart-audit", "channel": "web", "active": "on",
        "kind": "assessment", "bands_text": BANDS, "title_fr": "Audit express"})
    assert r.status_code == 302, r.content.decode()[:2000]
    form = Form.objects.get()
    for key, en, fr, answers in [
        ("has_budget", "Do you have a budget this year?", "Avez-vous un budget cette année ?",
         "yes | 30 | Yes | Oui | budget=yes\nno | 0 | No | Non | budget=no"),
        ("decides", "Do you decide on the purchase?", "Décidez-vous de l'achat ?",
         "yes | 10 | Yes | Oui | authority=yes\nno | 0 | No | Non"),
        ("focus", "What matters most?", "Qu'est-ce qui compte le plus ?",
         "scoring | 20 | Lead scoring | Le scoring | custom.topic=scoring, need=yes\n"
         "email | 5 | Email | L'email | custom.topic=email"),
    ]:
        r = marketer.post(f"/forms/{form.pk}/fields/", {
            "key": key, "type": "select", "required": "on", "label_en": en, "label_fr": fr,
            "answers": answers})
        assert r.status_code == 302, r.content.decode()[:3000]
    return form


def _take(form, lang="en", token=None, **answers):
    return Client().post(f"/f/{form.slug}/?lang={lang}",
                         {"lf_token": token or aged_token(form.pk), **answers})


def test_the_builder_stores_weighted_answers_and_bands(audit):
    question = audit.fields.get(key="has_budget")
    assert question.type == "select" and question.lead_field == "" and question.required
    assert question.answers[0] == {"value": "yes", "points": 30,
                                   "labels": {"en": "Yes", "fr": "Oui"},
                                   "sets": {"budget": True}}
    assert [(b["min"], b["texts"]["fr"]["title"]) for b in audit.bands] == [
        (0, "Premiers pas"), (40, "Avancé")]
    assert audit.bands[0]["texts"]["en"]["recommendations"] == [
        "Write your lead definition", "Map your funnel"]


def test_answers_on_a_plain_form_or_setting_an_unknown_field_are_refused(marketer, audit):
    r = marketer.post(f"/forms/{audit.pk}/fields/", {
        "key": "q", "type": "select", "label_en": "Q", "answers": "a | 1 | A | A | colour=red"})
    assert r.status_code == 422 and "budget, authority, need, timing" in r.content.decode()
    marketer.post("/forms/new/", {"name": "Plain", "slug": "plain", "channel": "web"})
    plain = Form.objects.get(slug="plain")
    r = marketer.post(f"/forms/{plain.pk}/fields/", {
        "key": "q", "type": "select", "label_en": "Q", "answers": "a | 1"})
    assert r.status_code == 422 and "make the form an assessment" in r.content.decode()


def test_the_hosted_result_page_shows_the_score_and_the_bands_recommendations(audit):
    page = Client().get("/f/smart-audit/").content.decode()
    assert 'type="radio" name="has_budget" value="yes"' in page

    r = _take(audit, email="ana@example.com", has_budget="yes", decides="yes", focus="email")
    body = r.content.decode()
    assert r.status_code == 200
    assert "Your maturity score: 45 out of 60" in body
    assert "Advanced" in body and "Automate the hand-off to sales" in body
    assert "Map your funnel" not in body

    low = _take(audit, email="bob@example.com", has_budget="no", decides="no", focus="email")
    assert "Your maturity score: 5 out of 60" in low.content.decode()
    assert "Write your lead definition" in low.content.decode()


def test_the_result_page_is_in_the_respondents_language(audit):
    page = Client().get("/f/smart-audit/?lang=fr").content.decode()
    assert "Avez-vous un budget cette année ?" in page and "Audit express" in page

    body = _take(audit, lang="fr", email="ana@example.com", has_budget="no", decides="yes",
                 focus="scoring").content.decode()
    assert "Votre score de maturité : 30 sur 60" in body
    assert "Premiers pas" in body and "Cartographiez votre tunnel" in body


def test_answers_fill_bant_and_interest_and_the_score_is_interest_points(audit):
    _take(audit, email="ana@example.com", has_budget="yes", decides="yes", focus="scoring")
    lead = Lead.objects.get()
    assert (lead.budget, lead.authority, lead.need, lead.timing) == (True, True, True, "")
    assert lead.bant_known == 3 and not lead.meets_bant
    assert lead.custom == {"topic": "scoring"}
    assert lead.interest_score == 60
    entry = ScoreEntry.objects.get(lead=lead, category="interest")
    assert entry.points == 60 and "smart-audit" in entry.reason

    event = lead.events.get(type="assessment_completed")
    assert event.properties == {"form": "smart-audit", "score": 60, "max": 60,
                                "band": "advanced",
                                "answers": {"has_budget": "yes", "decides": "yes",
                                            "focus": "scoring"}}


def test_answers_only_fill_empty_bant_fields(audit, make_lead):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(budget=False, custom={"topic": "ads"})
    _take(audit, email="ana@example.com", has_budget="yes", decides="yes", focus="scoring")
    lead.refresh_from_db()
    assert lead.budget is False  # a public form never rewrites what is known
    assert lead.authority is True and lead.need is True
    assert lead.custom == {"topic": "ads"}


def test_the_same_submission_sent_twice_gives_its_points_once(audit):
    token = aged_token(audit.pk)
    for _ in range(2):
        r = _take(audit, token=token, email="ana@example.com", has_budget="yes",
                  decides="no", focus="email")
        assert r.status_code == 200
    lead = Lead.objects.get()
    assert lead.events.filter(type="assessment_completed").count() == 1
    assert lead.interest_score == 35

    _take(audit, email="ana@example.com", has_budget="yes", decides="yes", focus="email")
    lead.refresh_from_db()
    assert lead.events.filter(type="assessment_completed").count() == 2
    assert lead.interest_score == 35 + 45


def test_a_wrong_answer_keeps_the_good_ones(audit):
    r = _take(audit, email="ana@example.com", has_budget="yes", decides="maybe", focus="email")
    body = r.content.decode()
    assert r.status_code == 422 and "maybe is not one of the choices." in body
    assert 'name="has_budget" value="yes" checked' in body
    assert 'name="focus" value="email" checked' in body
    assert not Lead.objects.exists()


def test_the_completed_assessment_is_on_the_timeline(audit, admin_user):
    _take(audit, email="ana@example.com", has_budget="yes", decides="yes", focus="email")
    lead = Lead.objects.get()
    client = Client()
    client.force_login(admin_user)
    body = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Completed the assessment smart-audit: 45 / 60" in body


def test_the_embed_shows_the_result_inline(audit):
    site = Client(enforce_csrf_checks=True)
    definition = site.get("/f/smart-audit/definition.json?lang=fr").json()
    question = next(f for f in definition["fields"] if f["key"] == "has_budget")
    assert question["weighted"] and question["options"] == [["yes", "Oui"], ["no", "Non"]]

    r = site.post("/f/smart-audit/submit?lang=fr", json.dumps({
        "lf_token": aged_token(audit.pk), "email": "ana@example.com", "has_budget": "yes",
        "decides": "no", "focus": "scoring"}), content_type="application/json")
    result = r.json()["result"]
    assert r.status_code == 200
    assert result["score"] == 50 and result["max"] == 60 and result["band"] == "advanced"
    assert result["title"] == "Avancé"
    assert result["recommendations"] == ["Automatisez le passage aux commerciaux"]
    assert result["score_label"] == "Votre score de maturité : 50 sur 60"
    assert Event.objects.filter(type="assessment_completed").count() == 1


def test_a_bot_is_refused_as_on_other_forms(audit):
    r = Client().post("/f/smart-audit/", {"email": "ana@example.com", "has_budget": "yes",
                                          "lf_token": "forged"})
    assert r.status_code == 400
    assert not Event.objects.filter(type="assessment_completed").exists()
