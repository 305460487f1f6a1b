"""BANT on the lead (seed 003): budget, authority, need and timing as first-class fields,
their completeness ("3 of 4 known") and the verdict (a short-term lead for sales, or a
lead to nurture) on the lead page in English and French and in the API; the rep edits
them (recorded as lead_updated); the API writes them only where the actor may."""

from __future__ import annotations

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead
from leadflow.leads.services import edit_lead, upsert_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita")


@pytest.fixture
def lead(rep) -> Lead:
    lead, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana"}, route=False)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()
    return lead


def _page(user, lead, lang="en") -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()


def test_an_unknown_lead_is_0_of_4_and_a_lead_to_nurture(rep, lead):
    body = _page(rep, lead)
    assert "0 of 4 known" in body
    assert "Does not meet BANT: a lead to nurture" in body


def test_three_known_is_shown_and_still_nurture(rep, lead):
    edit_lead(lead, {"budget": True, "authority": "yes", "timing": "within_12_months"},
              actor=rep)
    body = _page(rep, lead)
    assert "3 of 4 known" in body and "Does not meet BANT: a lead to nurture" in body
    assert 'data-bant="need">Unknown' in body
    assert 'data-bant="timing">Within 12 months' in body


def test_all_four_positive_meets_bant_in_english_and_french(rep, lead):
    edit_lead(lead, {"budget": True, "authority": True, "need": True,
                     "timing": "within_12_months"}, actor=rep)
    assert "Meets BANT: a short-term lead for sales" in _page(rep, lead)
    body = _page(rep, lead, "fr")
    assert "4 sur 4 connus" in body
    assert "Répond aux critères BANT : un prospect court terme pour les ventes" in body


def test_a_no_is_known_but_does_not_meet_bant(rep, lead):
    edit_lead(lead, {"budget": False, "authority": True, "need": True, "timing": "later"},
              actor=rep)
    lead.refresh_from_db()
    assert lead.bant_known == 4 and not lead.meets_bant
    body = _page(rep, lead, "fr")
    assert "Ne répond pas aux critères BANT : un prospect à faire mûrir" in body


def test_the_rep_edits_bant_on_the_profile_form_and_it_is_on_the_timeline(rep, lead):
    client = Client()
    client.force_login(rep)
    form = client.get(f"/leads/{lead.pk}/edit").content.decode()
    assert '<select name="budget"' in form and '<option value="within_12_months"' in form

    r = client.post(f"/leads/{lead.pk}/edit", {"first_name": "Ana", "budget": "yes",
                                                "authority": "no", "need": "",
                                                "timing": "later"})
    assert r.status_code == 302
    lead.refresh_from_db()
    assert (lead.budget, lead.authority, lead.need, lead.timing) == (True, False, None, "later")
    event = lead.events.get(type="lead_updated")
    assert event.properties["values"]["budget"] == [None, True]
    assert event.properties["values"]["timing"] == ["", "later"]

    client.post(f"/leads/{lead.pk}/edit", {"budget": ""})  # back to unknown
    lead.refresh_from_db()
    assert lead.budget is None


def test_a_bad_bant_value_is_refused_naming_the_field(rep, lead):
    with pytest.raises(InvalidInput) as exc:
        edit_lead(lead, {"timing": "someday"}, actor=rep)
    assert exc.value.field == "timing"


def test_the_api_reads_and_writes_bant(api, lead):
    r = api.client.patch(f"/api/v1/leads/{lead.pk}", {"budget": True, "need": True,
                                                      "authority": True,
                                                      "timing": "within_12_months"},
                         content_type="application/json", **api.auth)
    assert r.status_code == 200
    data = r.json()
    assert (data["budget"], data["timing"], data["bant_known"], data["meets_bant"]) == (
        True, "within_12_months", 4, True)
    r = api.client.patch(f"/api/v1/leads/{lead.pk}", {"budget": None},
                         content_type="application/json", **api.auth)
    assert (r.json()["budget"], r.json()["bant_known"], r.json()["meets_bant"]) == (
        None, 3, False)
    assert api.get(f"/leads/{lead.pk}").json()["bant_known"] == 3


def test_the_api_upsert_sets_bant_and_a_rep_cannot_change_anothers_lead(api_for, make_user,
                                                                        lead):
    other = api_for(make_user("otto", Role.SALES_REP))
    r = other.client.patch(f"/api/v1/leads/{lead.pk}", {"budget": False},
                           content_type="application/json", **other.auth)
    assert r.status_code == 404
    r = other.post("/leads", {"email": "ana@acme.example", "budget": False})
    assert r.status_code == 409
    lead.refresh_from_db()
    assert lead.budget is None

    admin = api_for(make_user("boss2", Role.ADMIN))
    r = admin.post("/leads", {"email": "bob@example.com", "need": True, "timing": "later"})
    assert r.status_code in (200, 201)
    bob = Lead.objects.get(email="bob@example.com")
    assert (bob.need, bob.timing, bob.bant_known) == (True, "later", 2)
