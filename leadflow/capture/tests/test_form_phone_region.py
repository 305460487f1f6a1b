"""Phones typed without a country prefix on a form: read with the country the visitor
gave, else the form's default country, else the installation's (LEADFLOW_DEFAULT_COUNTRY)."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture.models import Form, FormField
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_installation_country(settings):
    settings.DEFAULT_COUNTRY = ""


def _form(default_country="", country_field=False):
    form = Form.objects.create(name="Call me", slug="call", title="Call me back",
                               default_country=default_country)
    FormField.objects.create(form=form, key="email", lead_field="email", type="email",
                             required=True, position=1)
    FormField.objects.create(form=form, key="phone", lead_field="phone", type="phone",
                             position=2)
    if country_field:
        FormField.objects.create(form=form, key="country", lead_field="country", position=3)
    return form


def _submit(form, **values):
    r = Client().post("/f/call/", {"email": "ana@example.com",
                                   "lf_token": aged_token(form.pk), **values})
    assert r.status_code == 200, r.content.decode()
    return Lead.objects.get(email="ana@example.com")


def test_a_french_national_number_on_a_french_form_is_stored_in_e164_unflagged():
    lead = _submit(_form(default_country="FR"), phone="06 12 34 56 78")
    assert lead.phone == "+33612345678"
    assert lead.quality_flags == [] and not lead.contact_data_incorrect
    assert lead.country == ""  # the form's country reads phones, it does not locate leads


def test_the_country_the_visitor_gives_wins_over_the_form_default():
    lead = _submit(_form(default_country="FR", country_field=True),
                   phone="0470 12 34 56", country="Belgique")
    assert (lead.phone, lead.country, lead.quality_flags) == ("+32470123456", "BE", [])


def test_without_a_form_country_the_installation_default_reads_it(settings):
    settings.DEFAULT_COUNTRY = "FR"
    lead = _submit(_form(), phone="06 12 34 56 78")
    assert (lead.phone, lead.quality_flags) == ("+33612345678", [])


def test_with_no_country_at_all_a_national_number_is_kept_and_flagged():
    lead = _submit(_form(), phone="06 12 34 56 78")
    assert lead.phone == "06 12 34 56 78"
    assert lead.quality_flags == ["invalid_phone"]


def test_an_international_number_ignores_the_form_default():
    lead = _submit(_form(default_country="FR"), phone="+44 20 7946 0958")
    assert (lead.phone, lead.quality_flags) == ("+442079460958", [])


def test_the_builder_sets_the_default_country_and_refuses_an_unknown_one(make_user):
    client = Client()
    client.force_login(make_user("mia", Role.MARKETING))
    form = _form()
    settings_post = {"name": "Call me", "slug": "call", "title": "Call me back",
                     "channel": "web", "active": "on"}
    page = client.get(f"/forms/{form.pk}/").content.decode()
    assert '<option value="FR">France</option>' in page
    assert client.post(f"/forms/{form.pk}/", {**settings_post, "default_country": "FR"}
                       ).status_code == 302
    form.refresh_from_db()
    assert form.default_country == "FR"
    r = client.post(f"/forms/{form.pk}/", {**settings_post, "default_country": "ZZ"})
    assert r.status_code == 422
    form.refresh_from_db()
    assert form.default_country == "FR"
