"""The form builder (/forms/): admins and marketers manage forms and their fields."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture.models import Form, FormField
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import CustomFieldDefinition, Lead

pytestmark = pytest.mark.django_db

SETTINGS = {"name": "Demo request", "slug": "demo", "title": "Ask for a demo",
            "channel": "web", "event_type": "demo_requested", "active": "on"}


@pytest.fixture
def form(db):
    return Form.objects.create(name="Demo", slug="demo", title="Ask for a demo")


def _field(client, form, **values):
    data = {"type": "text", **values}
    return client.post(f"/forms/{form.pk}/fields/", data)


@pytest.mark.parametrize("path", ["/forms/", "/forms/new/"])
def test_a_rep_gets_403_on_the_builder(make_user, form, path):
    client = Client()
    client.force_login(make_user("rita", Role.SALES_REP))
    assert client.get(path).status_code == 403
    assert client.post(f"/forms/{form.pk}/fields/", {"lead_field": "phone",
                                                     "type": "phone"}).status_code == 403
    assert not form.fields.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(form):
    r = Client().get("/forms/")
    assert r.status_code == 302 and "/login" in r["Location"]


def test_a_marketer_creates_a_form(marketer):
    r = marketer.post("/forms/new/", SETTINGS)
    form = Form.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/forms/{form.pk}/"
    assert (form.slug, form.title, form.event_type) == ("demo", "Ask for a demo",
                                                        "demo_requested")
    assert "Demo request" in marketer.get("/forms/").content.decode()


def test_a_new_form_starts_with_a_required_email_and_keeps_it_when_a_field_is_added(
        marketer):
    marketer.post("/forms/new/", SETTINGS)
    form = Form.objects.get()
    _field(marketer, form, lead_field="phone", type="phone")

    assert [(f.key, f.required) for f in form.fields.order_by("position")] == [
        ("email", True), ("first_name", False), ("last_name", False),
        ("company_name", False), ("phone", False)]
    page = Client().get("/f/demo/").content.decode()
    assert 'name="email"' in page and 'name="company_name"' in page and 'name="phone"' in page


def test_adding_a_field_to_a_form_without_fields_keeps_the_default_ones(marketer, form):
    # A form made before the builder kept its fields asks the defaults without rows.
    _field(marketer, form, lead_field="city")
    assert [f.key for f in form.fields.order_by("position")] == [
        "email", "first_name", "last_name", "company_name", "city"]


def test_a_slug_used_by_another_form_is_refused(marketer, form):
    r = marketer.post("/forms/new/", SETTINGS)
    assert r.status_code == 422
    assert "already uses the address demo" in r.content.decode()
    assert Form.objects.count() == 1


def test_fields_are_added_with_labels_per_language_and_choices(marketer, form):
    r = _field(marketer, form, lead_field="city", label_en="City", label_fr="Ville",
               required="on")
    assert r.status_code == 302
    _field(marketer, form, key="size", lead_field="title", type="select",
           choices="1-10\n11-50\n")

    first, second = form.fields.order_by("position")[4:]
    assert (first.key, first.labels, first.required) == (
        "city", {"en": "City", "fr": "Ville"}, True)
    assert (second.key, second.type, second.choices) == ("size", "select", ["1-10", "11-50"])
    assert second.position > first.position


def test_a_field_maps_to_a_declared_custom_field(marketer, form):
    budget = CustomFieldDefinition.objects.create(key="budget", label="Budget", type="number")
    _field(marketer, form, custom_field=budget.pk, type="number")
    assert form.fields.get(key="budget").custom_field == budget


@pytest.mark.parametrize("values, message", [
    ({}, "Map the field to one lead field or one custom field."),
    ({"lead_field": "phone", "key": "consent"}, "reserved"),
    ({"lead_field": "title", "type": "select"}, "A select needs choices."),
])
def test_a_bad_field_is_422_with_a_message(marketer, form, values, message):
    r = _field(marketer, form, **values)
    assert r.status_code == 422
    assert message in r.content.decode()
    assert not form.fields.exists()


def test_fields_are_reordered_edited_and_deleted(marketer, form):
    _field(marketer, form, lead_field="phone", type="phone", required="on")
    email, first, last, company, phone = form.fields.order_by("position")

    marketer.post(f"/forms/{form.pk}/fields/{phone.pk}/move", {"direction": "up"})
    assert [f.key for f in form.fields.order_by("position")] == [
        "email", "first_name", "last_name", "phone", "company_name"]
    r = marketer.post(f"/forms/{form.pk}/fields/{first.pk}/",
                      {"lead_field": "first_name", "type": "text", "required": "on",
                       "label_en": "Given name"})
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.required and first.labels == {"en": "Given name"}
    for field in (email, last, company):  # the required phone still says who answers
        marketer.post(f"/forms/{form.pk}/fields/{field.pk}/delete")
    assert [f.key for f in form.fields.order_by("position")] == ["first_name", "phone"]


def test_the_last_required_email_or_phone_field_cannot_be_deleted(marketer, form):
    _field(marketer, form, lead_field="phone", type="phone")  # optional: does not count
    email = form.fields.get(key="email")

    r = marketer.post(f"/forms/{form.pk}/fields/{email.pk}/delete", follow=True)
    assert "last required email or phone field" in r.content.decode()
    assert form.fields.filter(key="email").exists()


@pytest.mark.parametrize("change", [{"required": ""}, {"extra": "on", "required": "on"},
                                    {"type": "hidden", "required": "on"}])
def test_the_last_required_email_field_cannot_become_optional(marketer, form, change):
    _field(marketer, form, lead_field="city")
    email = form.fields.get(key="email")
    r = marketer.post(f"/forms/{form.pk}/fields/{email.pk}/",
                      {"lead_field": "email", "type": "email", **change})
    assert r.status_code == 422
    assert "last required email or phone field" in r.content.decode()
    email.refresh_from_db()
    assert email.required and not email.extra and email.type == "email"


def test_a_form_without_a_required_email_or_phone_is_refused_with_the_message(marketer,
                                                                            form):
    # Made before the rule (or in the admin): only a city question.
    FormField.objects.create(form=form, key="city", lead_field="city")
    page = marketer.get(f"/forms/{form.pk}/").content.decode()
    assert "A form needs a required email or phone field" in page

    r = marketer.post(f"/forms/{form.pk}/", {**SETTINGS, "title": "Changed"})
    assert r.status_code == 422
    assert "A form needs a required email or phone field" in r.content.decode()
    r = _field(marketer, form, lead_field="country")
    assert r.status_code == 422 and "A form needs a required email" in r.content.decode()
    form.refresh_from_db()
    assert form.title == "Ask for a demo" and not form.fields.filter(key="country").exists()

    # Adding the required field it lacks is what fixes it.
    assert _field(marketer, form, lead_field="phone", type="phone",
                  required="on").status_code == 302
    assert marketer.post(f"/forms/{form.pk}/", {**SETTINGS, "title": "Changed"}
                         ).status_code == 302


def test_a_phone_only_form_creates_the_lead_by_phone(marketer, form, settings):
    settings.DEFAULT_COUNTRY = ""
    _field(marketer, form, lead_field="phone", type="phone", required="on")
    for field in form.fields.exclude(key="phone"):
        marketer.post(f"/forms/{form.pk}/fields/{field.pk}/delete")
    assert list(form.fields.values_list("key", flat=True)) == ["phone"]

    r = Client().post("/f/demo/", {"phone": "+33 6 12 34 56 78",
                                   "lf_token": aged_token(form.pk)})
    assert r.status_code == 200
    assert Lead.objects.get().phone == "+33612345678"
    r = Client().post("/f/demo/", {"phone": "", "lf_token": aged_token(form.pk)})
    assert r.status_code == 422 and "This field is required." in r.content.decode()


def test_the_form_page_shows_the_snippet_and_the_iframe_code(marketer, form, settings):
    settings.BASE_URL = "https://leads.example.com"
    page = marketer.get(f"/forms/{form.pk}/").content.decode()
    assert ("&lt;div data-leadflow-form=&quot;demo&quot;&gt;&lt;/div&gt;" in page)
    assert "https://leads.example.com/f/demo/embed.js" in page
    assert "https://leads.example.com/f/demo/?embed=1" in page


def test_labels_are_shown_in_the_visitor_language(form):
    FormField.objects.create(form=form, key="email", lead_field="email", type="email",
                             required=True, labels={"en": "Work email", "fr": "Email pro"})
    assert "Work email" in Client().get("/f/demo/").content.decode()
    assert "Email pro" in Client().get("/f/demo/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Email pro" in Client().get("/f/demo/?lang=fr").content.decode()


def test_the_api_lists_forms_for_marketing_and_refuses_reps(make_user, api_for, form):
    r = api_for(make_user("mia", Role.MARKETING)).get("/forms")
    assert r.status_code == 200
    assert r.json()[0]["slug"] == "demo"
    assert r.json()[0]["definition_url"].endswith("/f/demo/definition.json")
    assert api_for(make_user("rita", Role.SALES_REP)).get("/forms").status_code == 403


def test_the_openapi_schema_documents_the_forms_endpoint(api):
    schema = api.get("/openapi.json").json()
    assert "get" in schema["paths"]["/api/v1/forms"]


def test_the_preview_shows_the_form_even_inactive_and_only_to_the_builder_page(
        marketer, form, make_user):
    form.active = False
    form.save()
    r = marketer.get(f"/forms/{form.pk}/preview/?lang=fr")
    page = r.content.decode()
    assert r.status_code == 200 and "<h1>Ask for a demo</h1>" in page
    assert 'name="email"' in page and "disabled" in page  # cannot be sent
    assert r["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r["Content-Security-Policy"]
    assert f'src="/forms/{form.pk}/preview/"' in marketer.get(f"/forms/{form.pk}/"
                                                              ).content.decode()
    rep = Client()
    rep.force_login(make_user("rita", Role.SALES_REP))
    assert rep.get(f"/forms/{form.pk}/preview/").status_code == 403
