"""Extra questions ("Team size") added in the builder: the builder declares the typed
custom field that stores the answer, and the hosted form stores it in lead.custom."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import CustomFieldDefinition, Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(marketer):
    marketer.post("/forms/new/", {"name": "Demo", "slug": "demo", "channel": "web", "active": "on"})
    return Form.objects.get()


def _question(client, form, **values):
    return client.post(f"/forms/{form.pk}/questions/", values)


def _submit(form, **values):
    return Client().post(f"/f/{form.slug}/", {"lf_token": aged_token(form.pk), **values})


def test_a_choice_question_declares_a_choice_field_and_stores_the_answer(marketer, form):
    r = _question(marketer, form, label_en="Team size", label_fr="Taille de l'équipe",
                  type="select", choices="1-10\r\n11-50\n\n51+\n", required="on")
    assert r.status_code == 302

    definition = CustomFieldDefinition.objects.get()
    assert (definition.key, definition.label, definition.type, definition.choices) == (
        "team_size", "Team size", "choice", ["1-10", "11-50", "51+"])
    question = form.fields.get(key="team_size")
    assert (question.custom_field, question.type, question.required) == (
        definition, "select", True)
    assert question.labels == {"en": "Team size", "fr": "Taille de l'équipe"}
    # The default fields stay, the question comes last.
    assert list(form.fields.values_list("key", flat=True)) == [
        "email", "first_name", "last_name", "company_name", "team_size"]

    page = Client().get("/f/demo/?lang=fr").content.decode()
    assert "Taille de l&#x27;équipe" in page and "<option>11-50</option>" in page
    assert _submit(form, email="ana@example.com", team_size="11-50").status_code == 200
    assert Lead.objects.get().custom == {"team_size": "11-50"}


def test_an_answer_that_is_not_a_choice_is_refused(marketer, form):
    _question(marketer, form, label_en="Team size", type="select", choices="1-10\n11-50")
    r = _submit(form, email="ana@example.com", team_size="5000")
    assert r.status_code == 422 and "5000 is not one of the choices." in r.content.decode()
    assert not Lead.objects.exists()


def test_number_and_date_answers_are_stored_typed(marketer, form):
    _question(marketer, form, label_en="Budget", type="number")
    _question(marketer, form, label_en="Start date", key="project_start", type="date")
    _question(marketer, form, label_en="Newsletter too", type="checkbox")
    types = dict(CustomFieldDefinition.objects.values_list("key", "type"))
    assert types == {"budget": "number", "project_start": "date",
                     "newsletter_too": "boolean"}

    _submit(form, email="ana@example.com", budget="12500",
            project_start="2027-03-01", newsletter_too="yes")
    _submit(form, email="bob@example.com", budget="99,5")
    assert Lead.objects.get(email="ana@example.com").custom == {
        "budget": 12500, "project_start": "2027-03-01", "newsletter_too": True}
    assert Lead.objects.get(email="bob@example.com").custom == {
        "budget": 99.5, "newsletter_too": False}
    r = _submit(form, email="cy@example.com", project_start="03/01/2027")
    assert r.status_code == 422 and "Please enter a date (YYYY-MM-DD)." in r.content.decode()


def test_a_public_form_fills_an_empty_answer_only(marketer, form):
    _question(marketer, form, label_en="Team size", type="text")
    _submit(form, email="ana@example.com", team_size="12")
    _submit(form, email="ana@example.com", team_size="5000")
    assert Lead.objects.get().custom == {"team_size": "12"}


def test_an_existing_custom_field_is_reused_with_a_type_that_fits(marketer, form):
    budget = CustomFieldDefinition.objects.create(key="budget", label="Budget", type="number")
    r = marketer.post(f"/forms/{form.pk}/fields/", {"custom_field": budget.pk, "type": "text"})
    assert r.status_code == 302
    assert form.fields.get(key="budget").type == "number"  # a text could not be stored
    assert CustomFieldDefinition.objects.count() == 1


def test_a_question_whose_key_is_taken_says_how_to_reuse_it(marketer, form):
    CustomFieldDefinition.objects.create(key="team_size", label="Team size")
    r = _question(marketer, form, label_en="Team size", type="text")
    assert r.status_code == 422
    assert "A custom field team_size already exists" in r.content.decode()
    assert CustomFieldDefinition.objects.count() == 1
    assert not form.fields.filter(key="team_size").exists()


@pytest.mark.parametrize("values, message", [
    ({"type": "text"}, "Give the question a label."),
    ({"label_en": "Team size", "type": "select"}, "A choice question needs its choices"),
    ({"label_en": "Consent", "type": "text"}, "this one is reserved"),
])
def test_a_bad_question_is_422_and_declares_nothing(marketer, form, values, message):
    r = _question(marketer, form, **values)
    assert r.status_code == 422
    assert message in r.content.decode()
    assert not CustomFieldDefinition.objects.exists()


def test_a_rep_cannot_add_questions(make_user, form):
    client = Client()
    client.force_login(make_user("rita", Role.SALES_REP))
    assert _question(client, form, label_en="Team size", type="text").status_code == 403
    assert not CustomFieldDefinition.objects.exists()



def test_the_answer_shows_on_the_lead_page_under_the_question_in_the_readers_language(
        marketer, form):
    _question(marketer, form, label_en="Team size", label_fr="Taille de l'équipe",
              type="select", choices="1-10\n11-50")
    _submit(form, email="ana@example.com", team_size="11-50")
    lead = Lead.objects.get(email="ana@example.com")

    french = marketer.get(f"/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Taille de l&#x27;équipe" in french and "11-50" in french
    english = marketer.get(f"/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Team size" in english
    # A language the question was not given in reads the default label.
    definition = CustomFieldDefinition.objects.get(key="team_size")
    assert definition.shown_label("de") == "Team size"
