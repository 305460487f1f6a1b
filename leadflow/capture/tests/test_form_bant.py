"""BANT through forms: the builder maps budget, authority, need and timing with a yes/no or
timing select; a submission fills only the BANT fields still unknown (a public channel
never rewrites a known answer, a "no" included)."""

import pytest
from django.test import Client

from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(marketer):
    marketer.post("/forms/new/", {"name": "Contact", "slug": "contact", "channel": "web",
                                  "active": "on"})
    form = Form.objects.get()
    for name in ("budget", "authority", "need", "timing"):
        r = marketer.post(f"/forms/{form.pk}/fields/", {"lead_field": name, "type": "text"})
        assert r.status_code == 302, r.content.decode()[:2000]
    return form


def _submit(form, lang="en", **values):
    return Client().post(f"/f/{form.slug}/?lang={lang}",
                         {"lf_token": aged_token(form.pk), **values})


def test_bant_fields_are_offered_as_selects_in_the_visitors_language(form):
    assert set(form.fields.filter(key__in=["budget", "timing"]).values_list(
        "type", flat=True)) == {"select"}
    page = Client().get("/f/contact/?lang=fr").content.decode()
    assert '<option value="yes">Oui</option>' in page
    assert '<option value="within_12_months">Dans les 12 mois</option>' in page


def test_a_form_fills_bant_on_a_new_lead(form):
    r = _submit(form, email="ana@example.com", budget="yes", authority="no", need="yes",
                timing="within_12_months")
    assert r.status_code == 200
    lead = Lead.objects.get()
    assert (lead.budget, lead.authority, lead.need, lead.timing) == (
        True, False, True, "within_12_months")
    assert lead.bant_known == 4 and not lead.meets_bant


def test_a_form_fills_only_unknown_bant_fields(form, make_lead):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(budget=False, timing="later")
    _submit(form, email="ana@example.com", budget="yes", authority="yes",
            timing="within_12_months")
    lead.refresh_from_db()
    assert (lead.budget, lead.authority, lead.need, lead.timing) == (False, True, None, "later")


def test_a_bad_bant_answer_is_refused(form):
    r = _submit(form, email="ana@example.com", budget="perhaps")
    assert r.status_code == 422 and "perhaps is not one of the choices." in r.content.decode()
    assert not Lead.objects.exists()
