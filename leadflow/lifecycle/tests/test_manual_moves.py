"""Stage moves by hand, in the UI and the API: any stage, forward or backward, with the actor
and the reason; marketing between marketing's stages; reps within their scope."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.core.errors import Forbidden
from leadflow.leads.models import Lead
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.lifecycle.services import change_stage
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


def _stage(lead: Lead) -> str:
    lead.refresh_from_db()
    return lead.stage


def test_a_rep_moves_their_lead_forward_then_backward(make_lead, make_user):
    rep = make_user("rita")
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()

    change_stage(lead, "opportunity", actor=rep, reason="call booked")
    back = change_stage(lead, "sql", actor=rep, reason="budget on hold")

    assert _stage(lead) == "sql"
    assert (back.from_stage, back.to_stage, back.actor, back.reason, back.cause) == (
        "opportunity", "sql", rep, "budget on hold", "manual")
    event = lead.events.filter(type="stage_changed").first()
    assert (event.actor, event.properties["cause"]) == (rep, "manual")


def test_marketing_moves_between_marketing_stages_only(make_lead, make_user):
    marketer = make_user("mia", Role.MARKETING)
    lead = make_lead("ana@example.com")
    change_stage(lead, "nurture", actor=marketer)
    change_stage(lead, "mql", actor=marketer)
    with pytest.raises(Forbidden):
        change_stage(lead, "sql", actor=marketer)
    assert _stage(lead) == "mql"


def test_a_rep_may_not_move_another_reps_lead(make_lead, make_user):
    owner, other = make_user("rita"), make_user("sam")
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=owner)
    lead.refresh_from_db()
    with pytest.raises(Forbidden):
        change_stage(lead, "sql", actor=other)
    assert not StageChange.objects.filter(lead=lead).exists()


def test_a_custom_stage_is_accepted_once_defined(make_lead, admin_user):
    from leadflow.lifecycle.models import StageDefinition

    StageDefinition.objects.create(slug="pilot", name_en="Pilot", name_fr="Pilote",
                                   position=65, owned_by="sales")
    lead = make_lead("ana@example.com")
    change_stage(lead, "pilot", actor=admin_user)
    assert _stage(lead) == "pilot"


def test_api_moves_the_stage_and_answers_403_outside_the_rules(make_lead, make_user, api_for):
    rep, marketer = make_user("rita"), make_user("mia", Role.MARKETING)
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)

    r = api_for(rep).post(f"/leads/{lead.pk}/stage", {"stage": "sql", "reason": "met"})
    assert r.status_code == 200, r.content
    assert r.json()["stage"] == "sql"

    r = api_for(marketer).post(f"/leads/{lead.pk}/stage", {"stage": "opportunity"})
    assert r.status_code == 403
    r = api_for(rep).post(f"/leads/{lead.pk}/stage", {"stage": "hot"})
    assert (r.status_code, r.json()["field"]) == (422, "stage")
    assert _stage(lead) == "sql"


def test_api_accepts_rejects_and_disqualifies(make_lead, make_user, api_for, score_rules):
    StageThreshold.objects.create(stage="mql", min_score=15)
    rep = make_user("rita")
    first, second = make_lead("ana@example.com"), make_lead("bob@example.com")
    Lead.objects.filter(pk__in=[first.pk, second.pk]).update(owner=rep)
    for lead in (first, second):
        record_event("demo_requested", lead=lead)
    client = api_for(rep)

    assert client.post(f"/leads/{first.pk}/handoff/accept").json()["stage"] == "sal"
    r = client.post(f"/leads/{second.pk}/handoff/reject", {"reason": "no_budget"})
    assert r.json()["stage"] == "nurture"
    assert client.post(f"/leads/{second.pk}/handoff/reject",
                       {"reason": "no_budget"}).status_code == 409
    r = client.post(f"/leads/{second.pk}/disqualify", {"reason": "oth\x00er", "note": "x"})
    assert r.status_code == 422 and r.json()["field"] == "reason"  # not a 500
    r = client.post(f"/leads/{second.pk}/disqualify", {"reason": "other", "note": "spam"})
    assert r.json()["stage"] == "disqualified"


def test_the_lead_page_shows_the_definition_and_accept_reject_forms(make_lead, make_user,
                                                                    score_rules):
    StageThreshold.objects.create(stage="mql", min_score=15)
    rep = make_user("rita")
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    record_event("demo_requested", lead=lead)
    client = Client()
    client.force_login(rep)

    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "in the target and scored at or above the MQL threshold" in page
    assert "Handed off to sales: waiting for acceptance" in page
    assert "No budget within 12 months" in page

    r = client.post(f"/leads/{lead.pk}/handoff/reject", {"reason": "other", "note": ""})
    assert r.status_code == 422
    r = client.post(f"/leads/{lead.pk}/handoff/reject",
                    {"reason": "product_not_adapted", "note": ""})
    assert r.status_code == 302
    assert _stage(lead) == "nurture"
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Not ready to buy yet" in page
