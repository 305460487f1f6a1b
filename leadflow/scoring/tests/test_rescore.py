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

    def apply() -> None:  # every rule re-scored
        ScoreRule.objects.filter(event_type="newsletter_signup").update(points=40)

    result = preview(apply)

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


def _ledger() -> list[tuple]:
    return list(ScoreEntry.objects.order_by("pk").values_list(
        "pk", "lead_id", "rule_id", "event_id", "kind", "points", "category"))


def test_a_rescore_of_the_changed_rule_only_ends_as_a_full_rescore_would(
        make_lead, score_rules):
    from leadflow.scoring.services import add_points

    leads = [make_lead(f"{n}@example.com") for n in "abcd"]
    for i, lead in enumerate(leads):
        record_event("newsletter_signup", lead=lead)
        record_event("page_view", lead=lead, properties={"path": f"/blog/{i}"})
        add_points(lead, 3, "Met at a fair")
    blog = ScoreRule.objects.create(name="Blog", event_type="page_view", points=2,
                                    conditions=[{"field": "path", "op": "starts_with",
                                                 "value": "/blog/"}])
    rescore(rule_ids=[blog.pk])
    # A change of both points and matching: /blog/0 and /blog/1 only, 7 points.
    blog.points, blog.conditions = 7, [{"field": "path", "op": "one_of",
                                        "value": ["/blog/0", "/blog/1"]}]
    blog.save()
    # A change to another rule that the scoped re-score must leave alone.
    ScoreRule.objects.filter(event_type="newsletter_signup").update(points=9)

    scoped = rescore(rule_ids=[blog.pk])

    assert _scores(*leads) == [5 + 3 + 7, 5 + 3 + 7, 5 + 3, 5 + 3]
    assert (scoped.entries_changed, scoped.entries_removed) == (2, 2)
    ScoreRule.objects.filter(event_type="newsletter_signup").update(points=5)
    before = _ledger()
    full = rescore()
    assert (full.entries_added, full.entries_removed, full.entries_changed) == (0, 0, 0)
    assert _ledger() == before


def test_a_deleted_rule_loses_its_points_at_the_rescore_of_that_rule(make_lead, score_rules):
    lead = make_lead("ines@example.com")
    record_event("newsletter_signup", lead=lead)
    record_event("demo_requested", lead=lead)
    demo = score_rules["demo_requested"]
    pk = demo.pk
    demo.delete()

    result = rescore(rule_ids=[pk])

    assert _scores(lead) == [5]
    assert result.entries_removed == 1
    assert list(ScoreEntry.objects.values_list("reason", flat=True)) == ["Newsletter sign-up"]


def test_a_rescore_whose_job_lost_its_lease_stops_before_writing(make_lead, score_rules):
    from leadflow.scoring.rescore import LostLease

    lead = make_lead("ines@example.com")
    record_event("newsletter_signup", lead=lead)
    ScoreRule.objects.filter(event_type="newsletter_signup").update(points=50)

    with pytest.raises(LostLease):
        rescore(keep_alive=lambda: False)

    assert _scores(lead) == [5]


def test_a_points_and_group_change_rewritten_in_place_ends_as_a_full_rescore(
        make_lead, score_rules):
    from leadflow.scoring.models import LeadGroupScore, ScoreGroup

    product = ScoreGroup.objects.create(name="Product B", slug="product-b")
    leads = [make_lead(f"{n}@example.com") for n in "abc"]
    for lead in leads[:2]:
        record_event("newsletter_signup", lead=lead)
        record_event("demo_requested", lead=lead)
    demo = score_rules["demo_requested"]
    demo.points, demo.category, demo.group = 35, "engagement", product
    demo.save()

    result = rescore(rule_ids=[demo.pk], in_place=True)

    assert (result.entries_changed, result.leads_changed) == (2, 2)
    assert _scores(*leads) == [5, 5, 0]
    assert list(LeadGroupScore.objects.filter(group=product).values_list(
        "lead_id", "total")) == sorted([(leads[0].pk, 35), (leads[1].pk, 35)])
    before = _ledger()
    full = rescore()
    assert (full.entries_added, full.entries_removed, full.entries_changed) == (0, 0, 0)
    assert _ledger() == before
