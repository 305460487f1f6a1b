"""Re-scoring from the events and the current rules: a changed rule takes effect on every
lead, only the rows that change are written, a preview counts without writing, and
lifecycle hears about the leads whose score moved."""

import pytest

from leadflow.leads.models import Lead
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.scoring.services import preview, recompute_scores, rescore
from leadflow.scoring.signals import scores_rebuilt
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


def _scores(*leads: Lead) -> list[int]:
    return [Lead.objects.get(pk=lead.pk).score for lead in leads]


def test_a_rule_changed_from_5_to_50_points_gives_50_after_a_rescore(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_event("newsletter_signup", lead=lead)
    assert _scores(lead) == [5]
    ScoreRule.objects.filter(event_type="newsletter_signup").update(points=50)

    result = rescore(cause="rule_change")

    assert _scores(lead) == [50]
    assert (result.leads_changed, result.entries_changed, result.entries_added,
            result.entries_removed) == (1, 1, 0, 0)
    assert ScoreEntry.objects.get(lead=lead).points == 50


def test_recompute_scores_also_rebuilds_the_entries(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)
    ScoreRule.objects.filter(event_type="demo_requested").update(points=30)
    recompute_scores([lead.pk])
    assert _scores(lead) == [30]


def test_only_the_leads_and_entries_that_change_are_written(make_lead, score_rules):
    a, b = make_lead("a@example.com"), make_lead("b@example.com")
    record_event("newsletter_signup", lead=a)
    record_event("demo_requested", lead=b)
    kept = ScoreEntry.objects.get(lead=b)
    ScoreRule.objects.filter(event_type="newsletter_signup").update(active=False)

    result = rescore()

    assert (result.leads_changed, result.entries_removed, result.entries_changed,
            result.entries_added) == (1, 1, 0, 0)
    assert _scores(a, b) == [0, 20]
    assert ScoreEntry.objects.get(lead=b).created_at == kept.created_at  # not rewritten


def test_a_new_rule_scores_past_events(make_lead):
    lead = make_lead("mickael@example.com")
    record_event("webinar_attended", lead=lead)
    ScoreRule.objects.create(name="Webinar", event_type="webinar_attended", points=12)
    assert rescore().entries_added == 1
    assert _scores(lead) == [12]


def test_preview_counts_the_changes_and_writes_nothing(make_lead, score_rules):
    leads = [make_lead(f"{n}@example.com") for n in "abc"]
    for lead in leads[:2]:
        record_event("newsletter_signup", lead=lead)

    result = preview(lambda: ScoreRule.objects.filter(event_type="newsletter_signup")
                     .update(points=40))

    assert (result.leads_changed, result.entries_changed) == (2, 2)
    assert _scores(*leads) == [5, 5, 0]
    assert ScoreRule.objects.get(event_type="newsletter_signup").points == 5


def test_lifecycle_is_told_which_totals_moved_and_why(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_event("newsletter_signup", lead=lead)
    heard = []

    def receiver(sender, *, changes, cause, notify, **_):
        heard.append((changes, cause, notify))
        return 3

    scores_rebuilt.connect(receiver)
    try:
        ScoreRule.objects.filter(event_type="newsletter_signup").update(points=8)
        result = rescore(cause="rule_change", notify=False)
    finally:
        scores_rebuilt.disconnect(receiver)
    primary = ScoreEntry.objects.get(lead=lead).group_id
    assert heard == [({lead.pk: {primary: (5, 8)}}, "rule_change", False)]
    assert result.stage_moves == 3


def test_rescore_works_in_chunks_of_leads(make_lead, score_rules, monkeypatch):
    from leadflow.scoring import rescore as module

    monkeypatch.setattr(module, "CHUNK", 2)
    leads = [make_lead(f"{n}@example.com") for n in "abcde"]
    for lead in leads:
        record_event("demo_requested", lead=lead)
    ScoreRule.objects.filter(event_type="demo_requested").update(points=21)
    assert rescore().leads_changed == 5
    assert _scores(*leads) == [21] * 5
