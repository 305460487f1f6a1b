"""How often a rule gives its points: once, every time, at most N times, per calendar day,
week or month (UTC, in event time), only within a validity window; points dated at the
event's time."""

from datetime import UTC, datetime, timedelta

import pytest

from leadflow.core import clock
from leadflow.leads.models import Category
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.scoring.services import rescore
from leadflow.tracking.services import NewEvent, record_event, record_events

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _visit_rule(**frequency) -> ScoreRule:
    return ScoreRule.objects.create(name="Visit", event_type="page_view", points=2,
                                    category=Category.ENGAGEMENT, **frequency)


def _visits(lead, times) -> None:
    for at in times:
        record_event("page_view", lead=lead, occurred_at=at, properties={"url": "/"})


def _engagement(lead) -> int:
    lead.refresh_from_db()
    return lead.engagement_score


def _unchanged_by_rescore(lead) -> None:
    before = sorted(ScoreEntry.objects.filter(lead=lead).values_list("event_id", "points"))
    result = rescore(lead_ids=[lead.pk])
    assert (result.entries_added, result.entries_removed, result.entries_changed) == (0, 0, 0)
    assert sorted(ScoreEntry.objects.filter(lead=lead)
                  .values_list("event_id", "points")) == before


@pytest.fixture
def lead(make_lead):
    with clock.travel(MONDAY - timedelta(days=400)):
        return make_lead("mickael@example.com")


def test_every_time_gives_the_points_for_each_event(lead):
    _visit_rule()
    _visits(lead, [MONDAY + timedelta(hours=h) for h in range(5)])
    assert _engagement(lead) == 10
    _unchanged_by_rescore(lead)


def test_once_gives_the_points_for_the_first_event_only(lead):
    rule = _visit_rule(max_times=1)
    _visits(lead, [MONDAY, MONDAY + timedelta(days=40)])
    assert _engagement(lead) == 2
    assert list(ScoreEntry.objects.filter(rule=rule).values_list("occurred_at", flat=True)) \
        == [MONDAY]
    _unchanged_by_rescore(lead)


def test_at_most_three_times_in_all(lead):
    _visit_rule(max_times=3)
    _visits(lead, [MONDAY + timedelta(days=d) for d in range(6)])
    assert _engagement(lead) == 6
    _unchanged_by_rescore(lead)


def test_at_most_twice_per_day_counts_calendar_days_in_utc(lead):
    _visit_rule(max_times=2, per="day")
    _visits(lead, [MONDAY, MONDAY + timedelta(hours=1), MONDAY + timedelta(hours=2),
                   MONDAY.replace(hour=23, minute=59), MONDAY + timedelta(days=1)])
    assert _engagement(lead) == 2 * (2 + 1)
    _unchanged_by_rescore(lead)


def test_once_per_week_restarts_on_monday(lead):
    _visit_rule(max_times=1, per="week")
    sunday = MONDAY + timedelta(days=6, hours=14)
    _visits(lead, [MONDAY, MONDAY + timedelta(days=3), sunday, sunday + timedelta(hours=12)])
    assert _engagement(lead) == 2 * 2  # the Monday, and the Monday after
    _unchanged_by_rescore(lead)


def test_once_per_month_counts_calendar_months(lead):
    _visit_rule(max_times=1, per="month")
    _visits(lead, [datetime(2026, 3, 31, 23, tzinfo=UTC), datetime(2026, 4, 1, 0, 30,
                                                                   tzinfo=UTC),
                   datetime(2026, 4, 30, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)])
    assert _engagement(lead) == 2 * 3
    _unchanged_by_rescore(lead)


def test_only_events_within_the_validity_window_count(lead):
    _visit_rule(valid_from=MONDAY, valid_until=MONDAY + timedelta(days=7))
    _visits(lead, [MONDAY - timedelta(seconds=1), MONDAY, MONDAY + timedelta(days=7),
                   MONDAY + timedelta(days=7, seconds=1)])
    assert _engagement(lead) == 4
    _unchanged_by_rescore(lead)


def test_a_capped_rule_counts_in_event_time_order_within_a_batch(lead):
    rule = _visit_rule(max_times=1)
    late, early = MONDAY + timedelta(days=2), MONDAY
    stored = record_events([NewEvent("page_view", lead_id=lead.pk, occurred_at=late),
                            NewEvent("page_view", lead_id=lead.pk, occurred_at=early)])
    entry = ScoreEntry.objects.get(rule=rule)
    assert entry.event_id == stored[1][0].pk
    assert entry.occurred_at == early


def test_points_are_dated_at_the_event_time_not_the_processing_time(lead):
    _visit_rule()
    with clock.travel(MONDAY + timedelta(days=30)):
        record_event("page_view", lead=lead, occurred_at=MONDAY)
        entry = ScoreEntry.objects.get(lead=lead, kind="rule")
        assert entry.occurred_at == MONDAY
        assert entry.created_at == MONDAY + timedelta(days=30)
