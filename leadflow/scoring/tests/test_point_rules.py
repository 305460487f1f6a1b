"""Point rules turn events into score entries; the score is the sum of its entries."""

import pytest

from leadflow.leads.models import Category, Lead
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.scoring.services import (
    add_points,
    explain,
    recompute_scores,
)
from leadflow.tracking.services import NewEvent, record_event, record_events

pytestmark = pytest.mark.django_db


def _score(lead: Lead) -> int:
    lead.refresh_from_db()
    return lead.score


def test_newsletter_signup_adds_5_points_at_once(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_event("newsletter_signup", lead=lead)
    assert _score(lead) == 5


def test_demo_request_adds_20_points(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)
    assert _score(lead) == 20


def test_unsubscribe_takes_5_points_and_a_score_may_go_negative(make_lead, score_rules):
    lead = make_lead("romain@example.com")
    record_event("unsubscribed", lead=lead)
    assert _score(lead) == -5


def test_email_opened_counts_once_per_lead(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    other = make_lead("romain@example.com")
    record_event("email_opened", lead=lead, properties={"message_id": 1})
    record_event("email_opened", lead=lead, properties={"message_id": 2})
    record_event("email_opened", lead=other, properties={"message_id": 3})

    assert _score(lead) == 10
    assert _score(other) == 10
    assert lead.events.filter(type="email_opened").count() == 2
    assert ScoreEntry.objects.filter(lead=lead, rule=score_rules["email_opened"]).count() == 1


def test_email_opened_twice_in_one_batch_counts_once(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_events([NewEvent("email_opened", lead_id=lead.pk),
                   NewEvent("email_opened", lead_id=lead.pk)])
    assert _score(lead) == 10


def test_the_product_example_adds_up(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    for event_type in ("newsletter_signup", "email_opened", "email_opened", "demo_requested",
                       "unsubscribed"):
        record_event(event_type, lead=lead)
    assert _score(lead) == 5 + 10 + 20 - 5


def test_points_are_totalled_by_category(make_lead, score_rules):
    ScoreRule.objects.create(name="Big company", event_type="lead_updated", points=8,
                             category=Category.FIT)
    lead = make_lead("mickael@example.com")
    record_event("lead_updated", lead=lead)
    record_event("newsletter_signup", lead=lead)
    record_event("email_opened", lead=lead)
    record_event("demo_requested", lead=lead)

    lead.refresh_from_db()
    assert lead.points_by_category() == {"fit": 8, "engagement": 15, "interest": 20}
    assert (lead.fit_score, lead.engagement_score, lead.interest_score) == (8, 15, 20)
    assert lead.score == 43


def test_explain_lists_each_reason_newest_first(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    signup, _ = record_event("newsletter_signup", lead=lead)
    demo, _ = record_event("demo_requested", lead=lead)

    lines = explain(lead)

    assert [(e.points, e.reason, e.category, e.event_id) for e in lines] == [
        (20, "Demo request", "interest", demo.pk),
        (5, "Newsletter sign-up", "engagement", signup.pk),
    ]
    assert sum(e.points for e in lines) == _score(lead)


def test_add_points_outside_the_rules_is_explained_too(make_lead):
    lead = make_lead("mickael@example.com")
    add_points(lead, 7, "answered the survey", category=Category.INTEREST)

    lead.refresh_from_db()
    assert (lead.score, lead.interest_score) == (7, 7)
    assert [(e.points, e.reason, e.rule_id) for e in explain(lead)] == [
        (7, "answered the survey", None)]


def test_recompute_rebuilds_the_totals_from_the_ledger(make_lead, score_rules):
    ScoreRule.objects.create(name="Big company", event_type="lead_updated", points=8,
                             category=Category.FIT)
    lead = make_lead("mickael@example.com")
    untouched = make_lead("nobody@example.com")
    for event_type in ("lead_updated", "newsletter_signup", "email_opened",
                       "demo_requested", "unsubscribed"):
        record_event(event_type, lead=lead)
    lead.refresh_from_db()
    expected = (lead.score, lead.fit_score, lead.engagement_score, lead.interest_score)
    Lead.objects.filter(pk__in=[lead.pk, untouched.pk]).update(
        score=999, fit_score=-3, engagement_score=42, interest_score=0)

    assert recompute_scores([lead.pk, untouched.pk]) == 2

    lead.refresh_from_db()
    untouched.refresh_from_db()
    assert expected == (38, 8, 10, 20)
    assert (lead.score, lead.fit_score, lead.engagement_score, lead.interest_score) == expected
    assert (untouched.score, untouched.fit_score, untouched.engagement_score,
            untouched.interest_score) == (0, 0, 0, 0)


def test_recompute_without_ids_rebuilds_every_lead(make_lead, score_rules):
    a = make_lead("a@example.com")
    b = make_lead("b@example.com")
    record_event("demo_requested", lead=a)
    record_event("newsletter_signup", lead=b)
    Lead.objects.update(score=0, engagement_score=0, interest_score=0)

    recompute_scores()

    assert (_score(a), _score(b)) == (20, 5)


def test_a_rule_with_conditions_matches_only_events_with_those_properties(make_lead):
    ScoreRule.objects.create(name="Automation white paper", event_type="content_download",
                             conditions=[{"field": "asset", "op": "equals",
                                          "value": "automation-strategy"},
                             {"field": "format", "op": "equals", "value": "pdf"}],
                             points=15, category=Category.INTEREST)
    lead = make_lead("mickael@example.com")
    record_event("content_download", lead=lead, properties={"asset": "what-is-automation",
                                                            "format": "pdf"})
    record_event("content_download", lead=lead, properties={"asset": "automation-strategy"})
    assert _score(lead) == 0

    record_event("content_download", lead=lead,
                 properties={"asset": "automation-strategy", "format": "pdf", "page": "/wp"})
    assert _score(lead) == 15


def test_an_inactive_rule_gives_nothing(make_lead, score_rules):
    ScoreRule.objects.filter(event_type="newsletter_signup").update(active=False)
    lead = make_lead("mickael@example.com")
    record_event("newsletter_signup", lead=lead)
    assert _score(lead) == 0


def test_every_matching_rule_counts(make_lead, score_rules):
    ScoreRule.objects.create(name="Demo from France", event_type="demo_requested",
                             conditions=[{"field": "country", "op": "equals",
                                          "value": "FR"}], points=3, category=Category.FIT)
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead, properties={"country": "FR"})
    lead.refresh_from_db()
    assert (lead.score, lead.interest_score, lead.fit_score) == (23, 20, 3)
