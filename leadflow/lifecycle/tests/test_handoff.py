"""The hand-off: once per lead when it reaches the hand-off stage or jumps past it; sales
accept it (SAL) or reject it with a reason (back to nurture, score reset as configured);
a rejected lead is promoted again only after an event of its own; disqualification with a
reason; entry and exit time of each stay in a stage."""

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput
from leadflow.leads.models import Lead
from leadflow.lifecycle.models import Handoff, StageChange, StageDefinition, StageThreshold
from leadflow.lifecycle.services import (
    accept_handoff,
    change_stage,
    disqualify,
    reject_handoff,
)
from leadflow.scoring.services import add_points
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def mql_at_15(db):
    return StageThreshold.objects.create(stage="mql", min_score=15)


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP)


def _owned_mql(make_lead, rep, email="ana@example.com") -> Lead:
    lead = make_lead(email)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    record_event("demo_requested", lead=lead)
    lead.refresh_from_db()
    return lead


def test_reaching_the_handoff_stage_hands_the_lead_off_once(make_lead, score_rules,
                                                             mql_at_15, rep):
    lead = _owned_mql(make_lead, rep)
    assert lead.stage == "mql"
    handed = lead.events.get(type="handed_off")
    assert handed.properties["to"] == "mql"
    reasons = [r["reason"] for r in handed.properties["reasons"]]
    assert reasons[0] == "score 20 reached the MQL threshold (15)"
    assert "Demo request" in reasons

    change_stage(lead, "hmql")
    change_stage(lead, "mql")  # back and forth: still the same hand-off
    assert lead.events.filter(type="handed_off").count() == 1
    assert Handoff.objects.filter(lead=lead).count() == 1


def test_a_jump_past_the_handoff_stage_counts(make_lead):
    StageThreshold.objects.create(kind="event", stage="sql", event_type="demo_requested")
    lead = make_lead("ana@example.com")
    record_event("demo_requested", lead=lead)
    lead.refresh_from_db()
    assert lead.stage == "sql"
    assert lead.events.get(type="handed_off").properties["to"] == "sql"
    assert Handoff.objects.get(lead=lead).status == Handoff.Status.PENDING


def test_a_closed_stage_is_no_handoff(make_lead):
    lead = make_lead("ana@example.com")
    change_stage(lead, "customer")
    assert not lead.events.filter(type="handed_off").exists()


def test_the_owner_accepts_the_handoff(make_lead, score_rules, mql_at_15, rep):
    lead = _owned_mql(make_lead, rep)
    change = accept_handoff(lead, actor=rep)
    lead.refresh_from_db()
    assert (lead.stage, change.actor, change.from_stage) == ("sal", rep, "mql")
    handoff = Handoff.objects.get(lead=lead)
    assert (handoff.status, handoff.decided_by) == (Handoff.Status.ACCEPTED, rep)
    with pytest.raises(Conflict):
        accept_handoff(lead, actor=rep)


def test_a_rejection_sends_the_lead_back_to_nurture_with_reason_and_resets_engagement(
        make_lead, score_rules, mql_at_15, rep):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    record_event("newsletter_signup", lead=lead)  # engagement 5
    record_event("email_opened", lead=lead)  # engagement 15: MQL
    lead.refresh_from_db()
    assert (lead.stage, lead.engagement_score) == ("mql", 15)

    change = reject_handoff(lead, actor=rep, reason="no_budget", note="next year maybe")

    lead.refresh_from_db()
    assert (lead.stage, lead.engagement_score, lead.score) == ("nurture", 0, 0)
    assert change.qualification_reason.code == "no_budget"
    assert (change.cause, change.note) == ("rejection", "next year maybe")
    assert change.reason == "Rejected by sales: No budget within 12 months"
    event = lead.events.filter(type="stage_changed").first()
    assert event.properties["qualification_reason"] == "no_budget"
    assert Handoff.objects.get(lead=lead).status == Handoff.Status.REJECTED


def test_the_reset_follows_the_handoff_stage_setting(make_lead, score_rules, mql_at_15, rep):
    StageDefinition.objects.filter(slug="mql").update(reject_reset="")
    lead = _owned_mql(make_lead, rep)
    reject_handoff(lead, actor=rep, reason="product_not_adapted")
    lead.refresh_from_db()
    assert (lead.stage, lead.score) == ("nurture", 20)


def test_a_rejected_lead_is_not_promoted_by_score_alone_until_an_event_of_its_own(
        make_lead, score_rules, mql_at_15, rep):
    StageDefinition.objects.filter(slug="mql").update(reject_reset="")
    lead = _owned_mql(make_lead, rep)
    reject_handoff(lead, actor=rep, reason="no_budget")

    add_points(lead, 10, "webinar bonus")  # 30, above 15: the score alone
    lead.refresh_from_db()
    assert lead.stage == "nurture"

    clock.advance(timedelta(days=40))
    record_event("newsletter_signup", lead=lead)  # a new qualifying event of its own
    lead.refresh_from_db()
    assert lead.stage == "mql"
    # Recycled, then qualified again: a new hand-off.
    assert Handoff.objects.filter(lead=lead, status=Handoff.Status.PENDING).count() == 1
    assert lead.events.filter(type="handed_off").count() == 2


def test_other_as_a_reason_asks_for_a_note(make_lead, score_rules, mql_at_15, rep):
    lead = _owned_mql(make_lead, rep)
    with pytest.raises(InvalidInput) as exc:
        reject_handoff(lead, actor=rep, reason="other")
    assert exc.value.field == "note"
    with pytest.raises(InvalidInput) as exc:
        reject_handoff(lead, actor=rep, reason="because")
    assert exc.value.field == "reason"
    lead.refresh_from_db()
    assert lead.stage == "mql"


def test_only_the_owner_a_manager_or_an_admin_decide(make_lead, make_user, score_rules,
                                                    mql_at_15, rep):
    lead = _owned_mql(make_lead, rep)
    for someone in (make_user("other"), make_user("mia", Role.MARKETING)):
        with pytest.raises(Forbidden):
            accept_handoff(lead, actor=someone)
    boss = make_user("boss", Role.ADMIN)
    accept_handoff(lead, actor=boss)
    lead.refresh_from_db()
    assert lead.stage == "sal"


def test_disqualify_with_a_reason(make_lead, rep):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()
    change = disqualify(lead, actor=rep, reason="contact_data_incorrect")
    lead.refresh_from_db()
    assert (lead.stage, lead.is_closed) == ("disqualified", True)
    assert change.qualification_reason.code == "contact_data_incorrect"


def test_each_stay_in_a_stage_has_its_entry_and_exit_time(make_lead):
    lead = make_lead("ana@example.com")
    start = clock.now()
    with clock.travel(start):
        change_stage(lead, "mql")
        clock.advance(timedelta(days=3))
        change_stage(lead, "sal")
        clock.advance(timedelta(days=2))
        change_stage(lead, "mql")  # backward

    periods = list(StageChange.objects.filter(lead=lead).order_by("changed_at", "id")
                   .values_list("to_stage", "changed_at", "exited_at"))
    assert [p[0] for p in periods] == ["mql", "sal", "mql"]
    assert periods[0][2] - periods[0][1] == timedelta(days=3)
    assert periods[1][2] - periods[1][1] == timedelta(days=2)
    assert periods[2][2] is None
    assert periods[0][1] >= start


def test_the_migration_fills_exit_times_from_the_history(make_lead):
    from importlib import import_module

    from django.db import connection

    migration = import_module("leadflow.lifecycle.migrations.0006_seed_stages_reasons_periods")
    lead = make_lead("ana@example.com")
    change_stage(lead, "mql")
    clock.advance(timedelta(hours=5))
    change_stage(lead, "customer")
    StageChange.objects.update(exited_at=None)

    with connection.cursor() as cursor:
        cursor.execute(migration.EXIT_TIMES)

    first, last = StageChange.objects.filter(lead=lead).order_by("changed_at", "id")
    assert first.exited_at == last.changed_at
    assert last.exited_at is None


def test_stages_brought_in_by_an_import_hand_nothing_off(make_lead):
    from leadflow.lifecycle.services import change_stages

    leads = [make_lead(f"l{i}@example.com") for i in range(3)]
    assert change_stages(leads, "sql", reason="import") == 3
    assert not Handoff.objects.exists()
    assert StageChange.objects.filter(cause="import").count() == 3


def test_a_rep_moving_the_lead_to_a_sales_stage_by_hand_accepts_its_handoff(
        make_lead, score_rules, mql_at_15, rep):
    lead = _owned_mql(make_lead, rep)
    change_stage(lead, "sql", actor=rep, reason="qualified on the phone")
    handoff = Handoff.objects.get(lead=lead)
    assert (handoff.status, handoff.decided_by) == (Handoff.Status.ACCEPTED, rep)
