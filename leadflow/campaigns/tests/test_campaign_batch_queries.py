"""Advancing a batch of memberships costs a bounded number of statements, the same for 10
leads as for 1,000 (issue 12): each step kind decides for the whole group standing at it,
and the engine writes where they stand set-based."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.campaigns.services import enroll_many
from leadflow.core import clock
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.leads.bulk import bulk_upsert
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
WAIT = timedelta(days=2)
WITHIN = timedelta(days=3)
# What one batch may cost, whatever its size: measured 27 to 36 statements a stage (the
# same for 10 and 1,000 leads, SQLite and PostgreSQL), plus a little room.
BOUND = 40


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.MARKETING_BASIS = "legitimate_interest"  # about the engine, not the legal basis
    with clock.travel(T0):
        yield


def make_campaign(name: str) -> Campaign:
    """add points → A/B split (both ways to the wait) → wait → send an email → opened it
    within three days? (no: leaves)."""
    template = EmailTemplate.objects.create(name=f"{name} offer", subject="Our offer",
                                            body_text="Hello {{ lead.first_name }}.")
    campaign = Campaign.objects.create(name=name)
    points, split, wait, send, opened = Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.ADD_POINTS, points=5),
        Step(campaign=campaign, position=2, kind=Step.Kind.SPLIT, config={"percent": 50}),
        Step(campaign=campaign, position=3, kind=Step.Kind.WAIT,
             config={"wait": {"kind": "delay", "seconds": int(WAIT.total_seconds())}}),
        Step(campaign=campaign, position=4, kind=Step.Kind.SEND_EMAIL, template=template),
        Step(campaign=campaign, position=5, kind=Step.Kind.IF_OPENED,
             config={"within_seconds": int(WITHIN.total_seconds())})])
    split.no_step = wait
    split.save(update_fields=["no_step"])
    return campaign


def enrol(campaign: Campaign, n: int) -> list[int]:
    ids = [r.lead_id for r in bulk_upsert(
        [{"email": f"{campaign.name.lower()}-{i}@example.com", "first_name": f"Lead {i}"}
         for i in range(n)], route=False) if r.lead_id is not None]
    enroll_many(ids, campaign)
    return ids


def walk(campaign: Campaign, n: int, at_most: Callable[[int], Any]) -> dict[str, int]:
    """The cohort's walk, stage by stage, with each stage's query count: one run over
    everything due (the whole cohort: one batch), at most BOUND queries."""

    def one_batch() -> int:
        with at_most(BOUND) as queries:
            assert run_due_enrollments(limit=1000) == n
        return len(queries)

    ids = enrol(campaign, n)
    cohort = Enrollment.objects.filter(campaign=campaign)
    counts = {"points, split, to the wait": one_batch()}
    assert set(cohort.values_list("next_position", flat=True)) == {3}
    clock.advance(WAIT)
    counts["past the wait, email queued"] = one_batch()
    assert EmailMessage.objects.filter(campaign=campaign, status="queued").count() == n
    send_due()
    counts["email sent, waiting for an open"] = one_batch()
    assert set(cohort.values_list("next_position", "waits_for")) == {(5, "email_opened")}
    clock.advance(WITHIN)
    counts["not opened in time: leaves"] = one_batch()
    assert set(cohort.values_list("status", flat=True)) == {"exited"}
    assert Lead.objects.filter(pk__in=ids, score=5).count() == n
    return counts


def test_a_batch_of_1000_costs_the_queries_of_a_batch_of_10(django_assert_max_num_queries):
    walk(make_campaign("Warm"), 3, django_assert_max_num_queries)  # fills the caches
    ten = walk(make_campaign("Ten"), 10, django_assert_max_num_queries)
    thousand = walk(make_campaign("Thousand"), 1000, django_assert_max_num_queries)

    print(f"queries per batch, 10 leads: {ten}, 1,000 leads: {thousand}")
    assert thousand == ten
