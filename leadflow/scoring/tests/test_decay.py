"""Decay: the inactivity penalty (once per inactive period, re-armed by the next activity)
and the half-life of engagement points, applied by the periodic job and rebuilt from the
events alike. The clock is moved, never slept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from leadflow.core import clock
from leadflow.leads.models import Category, Lead
from leadflow.scoring.decay import (
    apply_decay,
    decayed,
    rebuild_inactivity,
    refresh_half_life,
    round_half_away,
    run_decay,
)
from leadflow.scoring.models import (
    EntryKind,
    LeadGroupScore,
    ScoreEntry,
    ScoreGroup,
    ScoreRule,
)
from leadflow.scoring.signals import scores_rebuilt
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def three_months(db) -> ScoreGroup:
    """PRODUCT.md: no email opened and no visit for 3 months, -10."""
    group = ScoreGroup.primary()
    group.inactivity_days, group.inactivity_points = 90, -10
    group.save()
    return group


@pytest.fixture
def reading_rule(db) -> ScoreRule:
    return ScoreRule.objects.create(name="Read an article", event_type="page_view", points=10,
                                    category=Category.ENGAGEMENT)


def _at(days: float) -> datetime:
    return START + timedelta(days=days)


def _score(lead: Lead) -> int:
    lead.refresh_from_db()
    return lead.score


def _decay_lines(lead: Lead, kind: str = EntryKind.INACTIVITY) -> list[tuple[datetime, int]]:
    return list(ScoreEntry.objects.filter(lead=lead, kind=kind).order_by("occurred_at")
                .values_list("occurred_at", "points"))


def test_romain_signs_up_goes_quiet_for_3_months_and_comes_back_a_year_later(
        make_lead, score_rules, reading_rule, three_months):
    with clock.travel(_at(0)):
        romain = make_lead("romain@example.com")
        record_event("newsletter_signup", lead=romain)
    assert _score(romain) == 5

    with clock.travel(_at(89)):
        apply_decay()
    assert _score(romain) == 5  # not yet three months

    with clock.travel(_at(91)):
        apply_decay()
    assert _score(romain) == -5
    assert _decay_lines(romain) == [(_at(90), -10)]  # dated at last activity + 90 days

    with clock.travel(_at(365 + 91)):
        apply_decay()  # still the same inactive period: no second penalty
        assert _score(romain) == -5
        record_event("page_view", lead=romain, properties={"url": "/blog/automation"})
    assert _score(romain) == 5
    assert _decay_lines(romain) == [(_at(90), -10)]


def test_the_next_activity_re_arms_the_penalty(make_lead, reading_rule, three_months):
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
    with clock.travel(_at(100)):
        apply_decay()
        record_event("page_view", lead=lead)
    with clock.travel(_at(150)):
        apply_decay()  # 50 days since the visit: nothing
    assert _decay_lines(lead) == [(_at(90), -10)]
    with clock.travel(_at(195)):
        apply_decay()
    assert _decay_lines(lead) == [(_at(90), -10), (_at(190), -10)]
    assert _score(lead) == 10 - 20


def test_what_we_do_to_a_lead_is_not_activity(make_lead, three_months):
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
    with clock.travel(_at(60)):
        record_event("email_sent", lead=lead, properties={"subject": "Our news"})
    with clock.travel(_at(91)):
        apply_decay()
    assert _decay_lines(lead) == [(_at(90), -10)]
    assert rebuild_inactivity([lead.pk], now=_at(91)) == set()


def test_the_job_runs_once_per_period_of_the_worker_tick(make_lead, three_months):
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
    with clock.travel(_at(91)):
        assert apply_decay() == 1
        assert apply_decay() == 0  # not due again yet
        assert run_decay() == 0  # and nothing left to do if it were
    assert _decay_lines(lead) == [(_at(90), -10)]


def test_rebuilding_from_events_gives_the_entries_of_the_periodic_job(
        make_lead, score_rules, reading_rule, three_months):
    # Same history twice: one lead lived it with the job running, the other is imported
    # with its history afterwards (events dated in the past) and rebuilt.
    visits = [0, 28, 196, 231, 504]  # on the job's weekly runs
    with clock.travel(_at(0)):
        live = make_lead("live@example.com")
    for day in range(0, 700, 7):
        with clock.travel(_at(day)):
            apply_decay()
            if day in visits:
                record_event("page_view", lead=live)
    with clock.travel(_at(0)):
        late = make_lead("late@example.com")
    with clock.travel(_at(700)):
        for day in visits:
            record_event("page_view", lead=late, occurred_at=_at(day))
        assert rebuild_inactivity(now=_at(700)) == {late.pk}
        assert rebuild_inactivity(now=_at(700)) == set()  # nothing changes the second time

    assert _decay_lines(late) == _decay_lines(live) == [
        (_at(118), -10), (_at(321), -10), (_at(594), -10)]
    assert _score(late) == _score(live) == 50 - 30


def test_a_late_event_inside_a_quiet_period_takes_its_penalty_back(make_lead, three_months):
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
    with clock.travel(_at(91)):
        apply_decay()
    assert _score(lead) == -10
    with clock.travel(_at(92)):
        record_event("page_view", lead=lead, occurred_at=_at(45))  # an import, late
        assert rebuild_inactivity([lead.pk]) == {lead.pk}
    assert _decay_lines(lead) == []
    assert _score(lead) == 0


def test_another_group_keeps_its_decay_in_its_own_score(make_lead, three_months):
    other = ScoreGroup.objects.create(name="Product B", slug="product-b",
                                      inactivity_days=30, inactivity_points=-3,
                                      weight_engagement=2)
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
    with clock.travel(_at(31)):
        apply_decay()
    assert _score(lead) == 0
    row = LeadGroupScore.objects.get(lead=lead, group=other)
    assert (row.engagement, row.total) == (-3, -6)  # the total weighs engagement twice
    with clock.travel(_at(91)):
        apply_decay()
    assert _score(lead) == -10
    row.refresh_from_db()
    assert (row.engagement, row.total) == (-3, -6)


def test_decay_tells_lifecycle_which_scores_changed(make_lead, score_rules, three_months):
    heard = []

    def receiver(sender, *, changes, cause, notify, **_):
        heard.append((changes, cause, notify))
        return 0

    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
        record_event("newsletter_signup", lead=lead)
    scores_rebuilt.connect(receiver)
    try:
        with clock.travel(_at(91)):
            apply_decay()
    finally:
        scores_rebuilt.disconnect(receiver)
    assert heard == [({lead.pk: {three_months.pk: (5, -5)}}, "decay", True)]


def test_half_life_halves_engagement_points_every_n_days(make_lead, reading_rule):
    group = ScoreGroup.primary()
    group.half_life_days = 30
    group.save()
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com")
        record_event("page_view", lead=lead)
    with clock.travel(_at(30)):
        apply_decay()
    assert _decay_lines(lead, EntryKind.HALF_LIFE) == [(_at(30), -5)]
    assert _score(lead) == 5
    assert lead.engagement_score == 5
    with clock.travel(_at(59)):
        assert refresh_half_life() == {lead.pk}  # 2.56 counts 3
    assert _decay_lines(lead, EntryKind.HALF_LIFE) == [(_at(59), -7)]
    assert _score(lead) == 3
    with clock.travel(_at(60)):
        assert refresh_half_life() == set()  # 2.5 still counts 3 (halves away from zero)
    with clock.travel(_at(60) + timedelta(hours=1)):
        assert refresh_half_life() == {lead.pk}  # 2.498 counts 2
    assert _score(lead) == 2


def test_half_life_in_sql_matches_its_python_definition(make_lead):
    group = ScoreGroup.primary()
    group.half_life_days = 7
    group.save()
    ScoreRule.objects.create(name="Visit", event_type="page_view", points=13)
    ScoreRule.objects.create(name="Click", event_type="email_clicked", points=7)
    ScoreRule.objects.create(name="Unsubscribed", event_type="unsubscribed", points=-5)
    ScoreRule.objects.create(name="Demo", event_type="demo_requested", points=20,
                             category=Category.INTEREST)  # not engagement: no decay
    lead = make_lead("romain@example.com")
    plan = [("page_view", 0.3), ("email_clicked", 2.5), ("page_view", 9.25),
            ("unsubscribed", 11), ("demo_requested", 12), ("page_view", 13.9)]
    for event_type, day in plan:
        with clock.travel(_at(day)):
            record_event(event_type, lead=lead)
    now = _at(17)
    points = {"page_view": 13, "email_clicked": 7, "unsubscribed": -5}
    raw = sum(points.get(t, 0) for t, _ in plan)
    expected = round_half_away(sum(decayed(points.get(t, 0), now - _at(day), 7)
                                   for t, day in plan)) - raw
    refresh_half_life(now=now)
    assert _decay_lines(lead, EntryKind.HALF_LIFE) == [(now, expected)]
    assert _score(lead) == raw + expected + 20


def test_rounding_is_to_the_nearest_halves_away_from_zero():
    assert [round_half_away(v) for v in (2.5, 2.49, -2.5, -2.49, 0.5, 0.0)] == [
        3, 2, -3, -2, 1, 0]


def test_the_decay_job_runs_a_constant_number_of_queries_whatever_the_leads(
        make_lead, three_months):
    def run(n: int, start: float) -> int:
        with clock.travel(_at(start)):
            for i in range(n):
                make_lead(f"lead{start}-{i}@example.com")
        with clock.travel(_at(start + 91)), CaptureQueriesContext(connection) as queries:
            assert apply_decay() == n
        return len(queries)

    assert run(3, 0) == run(30, 200)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and real concurrency")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_write_each_line_once(make_lead, three_months):
    with clock.travel(_at(0)):
        leads = [make_lead(f"lead{i}@example.com") for i in range(40)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(job) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    with clock.travel(_at(91)):
        # Two claims of the job, and two runs bypassing the claim (a worker whose lease
        # ran out while it still worked): the lock and the line keys hold.
        threads = [threading.Thread(target=work, args=(job,))
                   for job in (apply_decay, apply_decay, run_decay, run_decay)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert ScoreEntry.objects.filter(kind=EntryKind.INACTIVITY).count() == 40
    assert set(Lead.objects.filter(pk__in=[x.pk for x in leads])
               .values_list("score", flat=True)) == {-10}
