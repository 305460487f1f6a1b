"""Progressive profiling: fields already known for the visitor are replaced by the next
progressive questions (visitor recognised by the signed lead cookie or by `lf_vid`)."""

import pytest
from django.test import Client

from leadflow.capture.models import Form, FormField
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Lead
from leadflow.tracking.visitors import get_or_create_visitor, identify

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(db):
    form = Form.objects.create(name="Content", slug="content", title="Content",
                               progressive_profiling=True)
    for i, (key, extra) in enumerate([("email", False), ("first_name", False),
                                      ("company_name", False), ("title", True),
                                      ("phone", True), ("city", True)]):
        FormField.objects.create(form=form, key=key, lead_field=key, position=i, extra=extra,
                                 required=key in ("email", "first_name", "company_name"),
                                 type="email" if key == "email" else "text")
    return form


def _asked(client, query=""):
    data = client.get("/f/content/definition.json" + query).json()
    return [f["key"] for f in data["fields"]]


def test_an_unknown_visitor_gets_the_first_questions(form):
    assert _asked(Client()) == ["email", "first_name", "company_name"]


def test_known_fields_are_replaced_by_the_next_questions_after_a_submission(form):
    visitor = Client()
    r = visitor.post("/f/content/", {"email": "ana@example.com", "first_name": "Ana",
                                     "company_name": "Acme", "lf_token": aged_token(form.pk)})
    assert r.status_code == 200 and "lf_lead" in r.cookies

    assert _asked(visitor) == ["email", "title", "phone"]
    page = visitor.get("/f/content/").content.decode()
    assert 'name="title"' in page and 'name="company_name"' not in page

    # The required fields not asked may be left out; the new answers are stored.
    r = visitor.post("/f/content/", {"email": "ana@example.com", "title": "CTO",
                                     "phone": "+33 1 23 45 67 89",
                                     "lf_token": aged_token(form.pk)})
    assert r.status_code == 200
    lead = Lead.objects.get()
    assert (lead.first_name, lead.company_name, lead.title) == ("Ana", "Acme", "CTO")
    assert _asked(visitor) == ["email", "city"]


def test_posting_a_known_email_does_not_reveal_that_lead_or_its_filled_fields(form, make_lead):
    make_lead("victim@example.com", first_name="Vic", company_name="Acme", title="CFO",
              phone="+33612345678")
    stranger = Client()
    r = stranger.post("/f/content/", {"email": "victim@example.com", "first_name": "X",
                                      "company_name": "Y", "lf_token": aged_token(form.pk)})

    assert r.status_code == 200 and "lf_lead" not in r.cookies
    assert _asked(stranger) == ["email", "first_name", "company_name"]
    r = stranger.post("/f/content/submit", {"email": "victim@example.com", "first_name": "X",
                                            "company_name": "Y",
                                            "lf_token": aged_token(form.pk)})
    assert r.status_code == 200 and "lf_lead" not in r.cookies


def test_the_tracking_visitor_id_recognises_the_lead(form, make_lead):
    lead = make_lead("ana@example.com", first_name="Ana", company_name="Acme")
    get_or_create_visitor("visitor-0001")
    identify("visitor-0001", lead)
    assert _asked(Client(), "?lf_vid=visitor-0001") == ["email", "title", "phone"]
    assert _asked(Client(), "?lf_vid=visitor-9999") == ["email", "first_name", "company_name"]


def test_a_forged_lead_cookie_is_ignored(form, make_lead):
    make_lead("ana@example.com", first_name="Ana", company_name="Acme")
    visitor = Client()
    visitor.cookies["lf_lead"] = "1"
    assert _asked(visitor) == ["email", "first_name", "company_name"]


def test_without_the_setting_nothing_is_replaced(form):
    Form.objects.filter(pk=form.pk).update(progressive_profiling=False)
    visitor = Client()
    visitor.post("/f/content/", {"email": "ana@example.com", "first_name": "Ana",
                                 "company_name": "Acme", "lf_token": aged_token(form.pk)})
    assert _asked(visitor) == ["email", "first_name", "company_name"]
