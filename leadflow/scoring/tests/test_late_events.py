"""Events that arrive after later ones were scored (an import of history, a merge, the
anonymous history merged at identify) end in the state an in-order arrival gives."""

from datetime import timedelta

import pytest

from leadflow.core import clock
from leadflow.leads.merge import merge_leads
from leadflow.leads.models import Category, Lead
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.tracking.services import NewEvent, record_event, record_events
from leadflow.tracking.visitors import identify

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_open(db):
    return ScoreRule.objects.create(name="At least one email opened", event_type="email_opened",
                                    points=10, category=Category.ENGAGEMENT, max_times=1)


def test_imported_older_history_takes_the_once_points_from_the_later_event(make_lead,
                                                                            first_open):
    lead = make_lead("mickael@example.com")
    now = clock.now()
    recent, _ = record_event("email_opened", lead=lead, occurred_at=now)
    older = record_events([NewEvent("email_opened", lead_id=lead.pk,
                                    occurred_at=now - timedelta(days=300))], via="import")
    entry = ScoreEntry.objects.get(rule=first_open)
    assert entry.event_id == older[0][0].pk != recent.pk
    assert entry.occurred_at == now - timedelta(days=300)
    lead.refresh_from_db()
    assert lead.engagement_score == 10


def test_at_most_twice_per_month_with_late_events_counts_the_first_two(make_lead):
    rule = ScoreRule.objects.create(name="Visit", event_type="page_view", points=3,
                                    max_times=2, per="month")
    lead = make_lead("mickael@example.com")
    base = clock.now().replace(day=10, hour=12)
    for days in (5, 6, 7):
        record_event("page_view", lead=lead, occurred_at=base + timedelta(days=days))
    for days in (1, 2):
        record_event("page_view", lead=lead, occurred_at=base + timedelta(days=days))
    dated = sorted(ScoreEntry.objects.filter(rule=rule).values_list("occurred_at", flat=True))
    assert dated == [base + timedelta(days=1), base + timedelta(days=2)]
    lead.refresh_from_db()
    assert lead.engagement_score == 6


def test_a_merge_counts_a_once_rule_both_leads_met_once(make_lead, first_open):
    keep = make_lead("mickael@example.com")
    other = make_lead("mickael.pro@example.com")
    nine_days_ago = clock.now() - timedelta(days=9)
    record_event("email_opened", lead=keep)
    record_event("email_opened", lead=other, occurred_at=nine_days_ago)
    merge_leads(keep, Lead.objects.get(pk=other.pk), actor=None)
    keep.refresh_from_db()
    assert keep.engagement_score == 10
    assert ScoreEntry.objects.get(rule=first_open).occurred_at == nine_days_ago


def test_anonymous_history_merged_at_identify_scores_at_its_time(make_lead, first_open):
    visit = ScoreRule.objects.create(name="Pricing page", event_type="page_view", points=5,
                                     max_times=1,
                                     conditions=[{"field": "url", "op": "contains",
                                                  "value": "/pricing"}])
    lead = make_lead("mickael@example.com")
    weeks_ago = clock.now() - timedelta(days=21)
    record_event("page_view", lead=lead, properties={"url": "https://x.test/pricing"})
    record_event("page_view", visitor_id="v" * 32, occurred_at=weeks_ago,
                 properties={"url": "https://x.test/pricing"})
    identify("v" * 32, lead)
    assert ScoreEntry.objects.get(rule=visit).occurred_at == weeks_ago
    lead.refresh_from_db()
    assert lead.engagement_score == 5
