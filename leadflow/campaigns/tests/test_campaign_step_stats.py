"""Each step's counters (entered, passed, exited, converted) count each visit once: a
lead leaving at a decision's "no" without a no path exited there, and a batch whose claim
was taken over (the membership woken meanwhile, or a worker presumed dead) counts
nothing: the worker that takes over counts it."""

from datetime import UTC, datetime

import pytest

from leadflow.campaigns.engine import advance_batch, claim_due, run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step, StepStat
from leadflow.core import clock
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with clock.travel(T0):
        yield


def counters(campaign: Campaign) -> dict[int, tuple[int, int, int, int]]:
    return {s.position: (s.entered, s.passed, s.exited, s.converted)
            for s in StepStat.objects.filter(campaign=campaign)}


def test_a_no_without_a_no_path_counts_the_lead_exited_at_the_decision(make_lead):
    campaign = Campaign.objects.create(name="Demo", entry_event_type="signup")
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.ADD_POINTS, points=5),
        Step(campaign=campaign, position=2, kind=Step.Kind.IF_EVENT,
             config={"event_type": "demo_requested"}),
        Step(campaign=campaign, position=3, kind=Step.Kind.ADD_POINTS, points=10)])
    record_event("signup", lead=make_lead("ana@example.com"))

    run_due_enrollments()

    assert Enrollment.objects.get().status == Enrollment.Status.EXITED
    assert counters(campaign) == {1: (1, 1, 0, 0), 2: (1, 0, 1, 0)}


def test_a_batch_that_lost_its_claim_counts_nothing(make_lead):
    campaign = Campaign.objects.create(name="Points", entry_event_type="signup")
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.ADD_POINTS, points=5),
        Step(campaign=campaign, position=2, kind=Step.Kind.WAIT, wait_seconds=3600)])
    lead = make_lead("bob@example.com")
    record_event("signup", lead=lead)
    claim = claim_due()
    # Another worker took the membership over (its lease ran out, or an event woke it).
    Enrollment.objects.filter(pk__in=claim.ids).update(claimed_by="", next_run_at=T0)

    advance_batch(claim.ids, claim)  # the slow worker's write is dropped...
    run_due_enrollments()  # ...and the one that took over walks it

    assert counters(campaign) == {1: (1, 1, 0, 0), 2: (1, 0, 0, 0)}
    assert lead.events.filter(type="campaign_points").count() == 1
