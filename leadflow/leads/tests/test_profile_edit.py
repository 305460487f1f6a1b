"""Editing a lead's profile by hand: the service, the lead page's form, PATCH /leads/{id},
the timeline event with old and new values, scope, and erasure leaving no copy."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.core.errors import Conflict, InvalidInput, NotFound
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.leads.privacy import erase_lead
from leadflow.leads.services import edit_lead, upsert_lead
from leadflow.tracking.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita")


@pytest.fixture
def lead(rep) -> Lead:
    lead, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana",
                           "phone": "+33612345678", "country": "FR"}, route=False)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()
    return lead


@pytest.fixture
def team_size(db) -> CustomFieldDefinition:
    return CustomFieldDefinition.objects.create(
        key="team_size", label="Team size", type=CustomFieldDefinition.Type.CHOICE,
        choices=["1-10", "11-50", "51+"])


def edits(lead: Lead) -> list[Event]:
    return list(Event.objects.filter(lead=lead, type=EventType.LEAD_UPDATED))


def test_the_owner_edits_the_phone_and_the_timeline_keeps_old_and_new(lead, rep):
    changed = edit_lead(lead, {"phone": "06 98 76 54 32"}, actor=rep)
    assert changed == ["phone"]
    lead.refresh_from_db()
    assert lead.phone == "+33698765432"  # read with the lead's country
    [event] = edits(lead)
    assert event.properties["values"] == {"phone": ["+33612345678", "+33698765432"]}
    assert event.actor == rep and event.via == Event.Via.UI


def test_nothing_changed_writes_nothing(lead, rep):
    assert edit_lead(lead, {"first_name": "Ana", "phone": "+33612345678"}, actor=rep) == []
    assert edits(lead) == []


def test_a_bad_value_names_its_field(lead, rep):
    with pytest.raises(InvalidInput) as bad_email:
        edit_lead(lead, {"email": "not an email"}, actor=rep)
    assert bad_email.value.field == "email"
    with pytest.raises(InvalidInput) as bad_field:
        edit_lead(lead, {"score": 100}, actor=rep)
    assert bad_field.value.field == "score"


def test_an_email_another_lead_has_is_a_conflict(lead, rep):
    upsert_lead({"email": "bob@acme.example"}, route=False)
    with pytest.raises(Conflict):
        edit_lead(lead, {"email": "Bob@acme.example"}, actor=rep)


def test_custom_fields_are_checked_against_their_definition(lead, rep, team_size):
    with pytest.raises(InvalidInput) as bad:
        edit_lead(lead, {"custom": {"team_size": "huge"}}, actor=rep)
    assert bad.value.field == "custom.team_size"
    edit_lead(lead, {"custom": {"team_size": "11-50"}}, actor=rep)
    lead.refresh_from_db()
    assert lead.custom == {"team_size": "11-50"}
    edit_lead(lead, {"custom": {"team_size": None}}, actor=rep)
    lead.refresh_from_db()
    assert lead.custom == {}


def test_a_rep_may_not_edit_anothers_lead(lead, make_user, client):
    other = make_user("otto")
    with pytest.raises(NotFound):
        edit_lead(lead, {"first_name": "Mallory"}, actor=other)
    client.force_login(other)
    url = reverse("leads:edit", args=[lead.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"first_name": "Mallory"}).status_code == 404
    lead.refresh_from_db()
    assert lead.first_name == "Ana"


def test_the_lead_page_form_saves_and_the_timeline_says_what_changed(client, lead, rep,
                                                                      team_size):
    client.force_login(rep)
    page = client.get(reverse("leads:edit", args=[lead.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="phone"' in body and "Team size" in body and "11-50" in body
    response = client.post(reverse("leads:edit", args=[lead.pk]), {
        "first_name": "Ana", "last_name": "Lima", "email": "ana@acme.example",
        "phone": "+33 6 98 76 54 32", "title": "CTO", "company_name": "Acme",
        "country": "FR", "city": "Lyon", "custom.team_size": "11-50"})
    assert response.status_code == 302
    detail = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "Profile edited:" in detail
    assert "+33612345678 → +33698765432" in detail
    assert "Team size: – → 11-50" in detail
    # The answer shows under its label.
    assert "<dt>Team size</dt><dd>11-50</dd>" in detail


def test_the_form_shows_an_error_in_place(client, lead, rep):
    client.force_login(rep)
    response = client.post(reverse("leads:edit", args=[lead.pk]),
                           {"email": "nope", "first_name": "Ana"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()


def test_patch_through_the_api(api_for, lead, rep, team_size):
    api = api_for(rep)
    response = api.client.patch(f"/api/v1/leads/{lead.pk}",
                                json.dumps({"title": "CEO", "custom": {"team_size": "51+"}}),
                                content_type="application/json", **api.auth)
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "CEO"
    assert response.json()["custom"] == {"team_size": "51+"}
    [event] = edits(lead)
    assert event.via == Event.Via.API
    assert event.properties["values"]["title"] == ["", "CEO"]


def test_patch_outside_scope_is_404(api_for, lead, make_user):
    api = api_for(make_user("otto"))
    response = api.client.patch(f"/api/v1/leads/{lead.pk}", json.dumps({"title": "x"}),
                                content_type="application/json", **api.auth)
    assert response.status_code == 404


def test_erasure_keeps_no_copy_of_the_old_values(lead, rep, make_user):
    edit_lead(lead, {"phone": "+33698765432", "first_name": "Anabela"}, actor=rep)
    erase_lead(lead, actor=make_user("mara", Role.MARKETING))
    leftovers = [e.properties for e in Event.objects.all()]
    assert not any("+33612345678" in json.dumps(p) or "Anabela" in json.dumps(p)
                   for p in leftovers)
