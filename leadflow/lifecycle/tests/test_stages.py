"""Stages: score thresholds move leads forward; people mark deals won or lost."""

import pytest

from leadflow.accounts.models import Role
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.lifecycle.services import change_stage, history, mark_outcome
from leadflow.tracking.models import Event
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def mql_at_15(db):
    return StageThreshold.objects.create(stage=Stage.MQL, min_score=15)


def _stage(lead: Lead) -> str:
    lead.refresh_from_db()
    return lead.stage


def test_crossing_the_mql_threshold_moves_a_new_lead_to_mql(make_lead, score_rules,
                                                              mql_at_15):
    lead = make_lead("mickael@example.com")
    record_event("newsletter_signup", lead=lead)
    assert _stage(lead) == Stage.LEAD

    record_event("email_opened", lead=lead)

    assert _stage(lead) == Stage.MQL
    assert lead.stage_changed_at is not None
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.actor) == (Stage.LEAD, Stage.MQL, None)
    assert "15" in change.reason
    event = lead.events.get(type="stage_changed")
    assert event.properties["from"] == "lead" and event.properties["to"] == "mql"
    assert event.via == Event.Via.SYSTEM


def test_a_lead_below_the_threshold_stays_new(make_lead, score_rules, mql_at_15):
    lead = make_lead("romain@example.com")
    record_event("newsletter_signup", lead=lead)
    record_event("newsletter_signup", lead=lead)
    assert _stage(lead) == Stage.LEAD
    assert not StageChange.objects.filter(lead=lead).exists()


def test_a_lead_in_nurture_is_promoted_by_score(make_lead, score_rules, mql_at_15):
    lead = make_lead("romain@example.com")
    change_stage(lead, Stage.NURTURE, reason="not ready")
    record_event("demo_requested", lead=lead)
    assert _stage(lead) == Stage.MQL
    assert [(c.from_stage, c.to_stage) for c in history(lead)] == [
        (Stage.NURTURE, Stage.MQL), ("lead", Stage.NURTURE)]


def test_a_lead_sent_back_to_nurture_moves_again_only_on_an_event_of_its_own(
        make_lead, score_rules, mql_at_15):
    from leadflow.scoring.services import add_points

    lead = make_lead("romain@example.com")
    record_event("demo_requested", lead=lead)  # 20: MQL
    change_stage(lead, Stage.NURTURE, reason="sales: no budget this year")

    add_points(lead, 5, "goodwill")  # 25, points given to it: its score alone
    assert _stage(lead) == Stage.NURTURE

    record_event("newsletter_signup", lead=lead)  # its own event after the recycling
    assert _stage(lead) == Stage.MQL


def test_points_given_outside_the_rules_can_cross_a_threshold(make_lead, mql_at_15):
    from leadflow.scoring.services import add_points

    lead = make_lead("mickael@example.com")

    assert add_points(lead, 15, "answered the survey", "interest", idempotency_key="s-1")
    assert not add_points(lead, 15, "answered the survey", "interest", idempotency_key="s-1")

    lead.refresh_from_db()
    assert (lead.score, lead.interest_score, lead.stage) == (15, 15, Stage.MQL)
    assert lead.events.filter(type="points_adjusted").count() == 1


@pytest.mark.parametrize("stage", [Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER,
                                   Stage.LOST, Stage.DISQUALIFIED])
def test_a_lead_past_mql_is_never_moved_back_by_score(make_lead, score_rules, mql_at_15,
                                                      stage):
    lead = make_lead("mickael@example.com")
    change_stage(lead, stage)
    changes = StageChange.objects.filter(lead=lead).count()

    record_event("demo_requested", lead=lead)
    record_event("unsubscribed", lead=lead)

    assert _stage(lead) == stage
    assert StageChange.objects.filter(lead=lead).count() == changes


def test_an_mql_whose_score_drops_stays_mql(make_lead, score_rules, mql_at_15):
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)
    for _ in range(5):
        record_event("unsubscribed", lead=lead)
    lead.refresh_from_db()
    assert lead.score < 15
    assert lead.stage == Stage.MQL


def test_a_jump_over_two_thresholds_goes_to_the_higher_stage(make_lead, score_rules,
                                                            mql_at_15):
    StageThreshold.objects.create(stage=Stage.SQL, min_score=20)
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)
    assert _stage(lead) == Stage.SQL
    assert [(c.from_stage, c.to_stage) for c in history(lead)] == [(Stage.LEAD, Stage.SQL)]


def test_an_mql_is_not_promoted_further_by_score(make_lead, score_rules, mql_at_15):
    StageThreshold.objects.create(stage=Stage.SQL, min_score=40)
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)
    record_event("demo_requested", lead=lead)
    assert _stage(lead) == Stage.MQL  # sales confirm an SQL; the score hands over


def test_mark_outcome_won_sets_the_stage_and_records_event_and_history(make_lead, make_user):
    rep = make_user("rita")
    lead = make_lead("mickael@example.com")
    change_stage(lead, Stage.SQL)

    change = mark_outcome(lead, "won", actor=rep, reason="signed")

    assert _stage(lead) == Stage.CUSTOMER
    assert (change.from_stage, change.to_stage, change.actor, change.reason) == (
        Stage.SQL, Stage.CUSTOMER, rep, "signed")
    won = lead.events.get(type="won")
    assert won.actor == rep and won.properties == {"reason": "signed"}
    assert lead.events.filter(type="stage_changed", properties__to="customer").count() == 1


def test_mark_outcome_lost_records_the_reason(make_lead):
    lead = make_lead("romain@example.com")
    mark_outcome(lead, "lost", reason="no budget within 12 months")
    assert _stage(lead) == Stage.LOST
    assert history(lead)[0].reason == "no budget within 12 months"
    assert lead.events.get(type="lost").properties["reason"] == "no budget within 12 months"


def test_marking_the_same_outcome_twice_records_it_once(make_lead):
    lead = make_lead("mickael@example.com")
    mark_outcome(lead, "won")
    assert mark_outcome(lead, "won") is None
    assert lead.events.filter(type="won").count() == 1
    assert StageChange.objects.filter(lead=lead, to_stage=Stage.CUSTOMER).count() == 1


def test_mark_outcome_refuses_anything_but_won_or_lost(make_lead):
    lead = make_lead("mickael@example.com")
    with pytest.raises(InvalidInput) as exc:
        mark_outcome(lead, "mql")
    assert exc.value.field == "outcome"
    assert _stage(lead) == Stage.LEAD
    assert not lead.events.filter(type="mql").exists()


def test_change_stage_refuses_an_unknown_stage(make_lead):
    lead = make_lead("mickael@example.com")
    with pytest.raises(InvalidInput):
        change_stage(lead, "hot")
    assert _stage(lead) == Stage.LEAD


def test_api_marks_a_lead_won(make_lead, make_user, api_for):
    rep = make_user("rita")
    lead = make_lead("mickael@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)

    r = api_for(rep).post(f"/leads/{lead.pk}/outcome", {"outcome": "won", "reason": "signed"})

    assert r.status_code == 200, r.content
    assert r.json()["stage"] == "customer"
    assert _stage(lead) == Stage.CUSTOMER
    won = lead.events.get(type="won")
    assert (won.actor, won.via) == (rep, Event.Via.API)
    assert history(lead)[0].actor == rep


def test_api_outcome_with_a_bad_outcome_is_422(make_lead, api):
    lead = make_lead("mickael@example.com")
    r = api.post(f"/leads/{lead.pk}/outcome", {"outcome": "maybe"})
    assert r.status_code == 422
    assert r.json()["field"] == "outcome"
    assert _stage(lead) == Stage.LEAD


def test_api_outcome_on_a_lead_the_rep_may_not_see_is_404(make_lead, make_user, api_for):
    rep = make_user("rita", Role.SALES_REP)
    lead = make_lead("mickael@example.com")
    r = api_for(rep).post(f"/leads/{lead.pk}/outcome", {"outcome": "won"})
    assert r.status_code == 404
    assert _stage(lead) == Stage.LEAD


def test_marketing_may_not_mark_a_deal_won(make_lead, make_user):
    from leadflow.core.errors import Forbidden

    lead = make_lead("mickael@example.com")
    marketer = make_user("mia", Role.MARKETING)

    with pytest.raises(Forbidden):
        mark_outcome(lead, "won", actor=marketer)

    assert _stage(lead) == Stage.LEAD
