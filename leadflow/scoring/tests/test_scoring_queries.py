"""The pipeline's scoring step costs a constant number of queries per batch, whatever its
size and its mix of rules; a batch no rule matches costs one."""

from datetime import timedelta

import pytest

from leadflow.core import clock
from leadflow.core.pipeline import Batch
from leadflow.leads.models import Category
from leadflow.scoring.engine import on_events
from leadflow.scoring.models import RuleKind, ScoreEntry, ScoreGroup, ScoreRule
from leadflow.tracking.models import Event
from leadflow.tracking.services import NewEvent, record_events

pytestmark = pytest.mark.django_db


def _stored_events(make_lead, size: int) -> list[Event]:
    leads = [make_lead(f"p{i}@example.com", title="Director") for i in range(10)]
    start = clock.now() - timedelta(days=30)
    types = ("page_view", "email_opened", "lead_updated", "points_adjusted")
    items = [NewEvent(types[i % 4], lead_id=leads[i % 10].pk,
                      occurred_at=start + timedelta(hours=i),
                      properties={"url": f"/p/{i}", "points": 1})
             for i in range(size)]
    return [event for event, _ in record_events(items)]


def _rules() -> None:
    other = ScoreGroup.objects.create(name="Other", slug="other")
    ScoreRule.objects.create(name="Visit", event_type="page_view", points=1,
                             conditions=[{"field": "url", "op": "starts_with", "value": "/p"}])
    ScoreRule.objects.create(name="Twice a day", event_type="page_view", points=2,
                             max_times=2, per="day", group=other)
    ScoreRule.objects.create(name="First open", event_type="email_opened", points=10,
                             max_times=1)
    ScoreRule.objects.create(name="Director", kind=RuleKind.ATTRIBUTE, points=5,
                             category=Category.FIT,
                             conditions=[{"field": "title", "op": "contains",
                                          "value": "director"}])


@pytest.mark.parametrize("size", [40, 400])
def test_a_batch_costs_the_same_few_queries_whatever_its_size(make_lead, size,
                                                              django_assert_max_num_queries):
    events = _stored_events(make_lead, size)
    _rules()
    with django_assert_max_num_queries(12):
        on_events(Batch(events))
    assert ScoreEntry.objects.filter(rule__name="Visit").count() == size // 4


def test_a_batch_no_rule_matches_costs_one_query(make_lead, django_assert_num_queries):
    events = _stored_events(make_lead, 40)
    ScoreRule.objects.create(name="Webinar", event_type="webinar", points=3)
    with django_assert_num_queries(1):
        on_events(Batch([e for e in events if e.type == "page_view"]))
