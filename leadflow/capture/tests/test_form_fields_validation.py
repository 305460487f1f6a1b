"""Form fields: each type validates its value; values go to lead fields or lead.custom."""

import pytest
from django.test import Client

from leadflow.capture.models import Form, FormField
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import CustomFieldDefinition, Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(db):
    form = Form.objects.create(name="Survey", slug="survey", title="Survey")
    budget = CustomFieldDefinition.objects.create(key="budget", label="Budget", type="number")
    start = CustomFieldDefinition.objects.create(key="start", label="Start", type="date")
    topics = CustomFieldDefinition.objects.create(key="topics", label="Topics", type="text")
    plan = CustomFieldDefinition.objects.create(key="plan", label="Plan", type="choice",
                                                choices=["basic", "pro"])
    trial = CustomFieldDefinition.objects.create(key="trial", label="Trial", type="boolean")
    about = CustomFieldDefinition.objects.create(key="about", label="About", type="text")
    specs = [
        {"key": "email", "lead_field": "email", "type": "email", "required": True},
        {"key": "phone", "lead_field": "phone", "type": "phone"},
        {"key": "country", "lead_field": "country", "type": "select",
         "choices": ["FR", "DE"]},
        {"key": "budget", "custom_field": budget, "type": "number"},
        {"key": "start", "custom_field": start, "type": "date"},
        {"key": "topics", "custom_field": topics, "type": "multi-select",
         "choices": ["crm", "email", "ads"]},
        {"key": "plan", "custom_field": plan, "type": "select"},
        {"key": "trial", "custom_field": trial, "type": "checkbox"},
        {"key": "about", "custom_field": about, "type": "textarea"},
        {"key": "city", "lead_field": "city", "type": "hidden"},
    ]
    for i, spec in enumerate(specs):
        FormField.objects.create(form=form, position=i, **spec)
    return form


def _post(form, values):
    return Client().post("/f/survey/", {**values, "lf_token": aged_token(form.pk)})


GOOD = {"email": "ana@example.com", "phone": "+33 6 12 34 56 78", "country": "FR",
        "budget": "1500", "start": "2026-12-01", "topics": ["crm", "ads"], "plan": "pro",
        "trial": "yes", "about": "We sell boats.", "city": "Lyon"}


def test_the_page_renders_each_type(form):
    page = Client().get("/f/survey/").content.decode()
    assert 'type="email" name="email" required' in page
    assert 'type="tel" name="phone"' in page
    assert '<select name="country">' in page and "<option>DE</option>" in page
    assert 'type="number" name="budget"' in page and 'type="date" name="start"' in page
    assert 'type="checkbox" name="topics" value="ads"' in page
    assert '<textarea name="about">' in page
    assert '<input type="hidden" name="city"' in page


def test_good_values_go_to_the_lead_and_its_custom_fields(form):
    r = _post(form, GOOD)
    assert r.status_code == 200
    lead = Lead.objects.get()
    assert (lead.email, lead.country, lead.city) == ("ana@example.com", "FR", "Lyon")
    assert lead.phone
    assert lead.custom == {"budget": 1500, "start": "2026-12-01", "topics": "crm, ads",
                           "plan": "pro", "trial": True, "about": "We sell boats."}
    values = lead.events.get(type="form_submitted").properties["values"]
    assert values["topics"] == ["crm", "ads"] and values["budget"] == 1500


@pytest.mark.parametrize("key, value, message", [
    ("email", "", "Please enter your email address."),
    ("email", "ana-at-example", "is not a valid email address"),
    ("phone", "call me maybe", "is not a phone number"),
    ("country", "XX", "is not one of the choices"),
    ("budget", "a lot", "Please enter a number."),
    ("start", "01/12/2026", "Please enter a date (YYYY-MM-DD)."),
    ("topics", ["crm", "seo"], "is not one of the choices"),
    ("plan", "enterprise", "is not one of the choices"),
    ("about", "x" * 2001, "A value is too long."),
])
def test_a_bad_value_is_refused_with_a_message_and_nothing_stored(form, key, value, message):
    r = _post(form, {**GOOD, key: value})
    assert r.status_code in (400, 422)
    assert message in r.content.decode()
    assert not Lead.objects.exists()


def test_a_required_field_must_be_filled(form):
    FormField.objects.filter(form=form, key="phone").update(required=True)
    r = _post(form, {**GOOD, "phone": ""})
    assert r.status_code == 422
    assert "This field is required." in r.content.decode()


def test_a_required_checkbox_must_be_ticked(form):
    FormField.objects.filter(form=form, key="trial").update(required=True)
    r = _post(form, {k: v for k, v in GOOD.items() if k != "trial"})
    assert r.status_code == 422
    assert "Please tick this box." in r.content.decode()


def test_an_unticked_checkbox_is_false(form):
    _post(form, {k: v for k, v in GOOD.items() if k != "trial"})
    assert Lead.objects.get().custom["trial"] is False


def test_the_typed_values_are_kept_after_an_error(form):
    page = _post(form, {**GOOD, "budget": "a lot"}).content.decode()
    assert 'value="a lot"' in page and "<option selected>FR</option>" in page
