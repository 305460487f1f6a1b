"""Several score groups side by side: each lead has a score per group, the primary one on
the lead row; weights combine the dimensions; fit gives a grade A to D."""

import pytest

from leadflow.leads.models import Category
from leadflow.scoring.models import LeadGroupScore, ScoreEntry, ScoreGroup, ScoreRule
from leadflow.scoring.services import rescore
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_group(db):
    return ScoreGroup.objects.create(name="CRM product", slug="crm", weight_fit=2,
                                     weight_engagement=1, weight_interest=3,
                                     grade_a_min=20, grade_b_min=10, grade_c_min=5)


def test_a_rule_of_another_group_scores_there_not_on_the_lead_row(make_lead, crm_group):
    ScoreRule.objects.create(name="CRM demo", event_type="demo_requested", points=20,
                             category=Category.INTEREST, group=crm_group)
    ScoreRule.objects.create(name="Demo", event_type="demo_requested", points=10,
                             category=Category.INTEREST)
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)

    lead.refresh_from_db()
    assert (lead.score, lead.interest_score) == (10, 10)
    crm = LeadGroupScore.objects.get(lead=lead, group=crm_group)
    assert (crm.total, crm.interest, crm.fit) == (60, 20, 0)  # interest weighs 3
    assert crm.grade == "D"


def test_weights_and_grade_follow_fit_points_in_each_group(make_lead, crm_group):
    ScoreRule.objects.create(name="Fit", event_type="qualified", points=12,
                             category=Category.FIT, group=crm_group)
    ScoreRule.objects.create(name="Visit", event_type="page_view", points=1,
                             category=Category.ENGAGEMENT, group=crm_group)
    lead = make_lead("mickael@example.com")
    record_event("qualified", lead=lead)
    record_event("page_view", lead=lead)
    crm = LeadGroupScore.objects.get(lead=lead, group=crm_group)
    assert (crm.total, crm.grade) == (12 * 2 + 1, "B")
    record_event("qualified", lead=lead)
    crm.refresh_from_db()
    assert (crm.total, crm.grade) == (24 * 2 + 1, "A")


def test_the_primary_group_grades_the_lead_and_may_be_weighted(make_lead):
    ScoreGroup.objects.filter(is_primary=True).update(weight_fit=3, grade_a_min=30,
                                                      grade_b_min=20, grade_c_min=10)
    ScoreRule.objects.create(name="Fit", event_type="qualified", points=11,
                             category=Category.FIT)
    ScoreRule.objects.create(name="Visit", event_type="page_view", points=2,
                             category=Category.ENGAGEMENT)
    lead = make_lead("mickael@example.com")
    record_event("qualified", lead=lead)
    record_event("page_view", lead=lead)
    lead.refresh_from_db()
    assert (lead.fit_score, lead.score, lead.grade) == (11, 35, "C")
    record_event("qualified", lead=lead)
    lead.refresh_from_db()
    assert (lead.score, lead.grade) == (68, "B")


def test_rescore_rebuilds_every_group_and_a_group_change_retotals(make_lead, crm_group):
    ScoreRule.objects.create(name="CRM visit", event_type="page_view", points=4,
                             category=Category.ENGAGEMENT, group=crm_group)
    lead = make_lead("mickael@example.com")
    record_event("page_view", lead=lead)
    ScoreEntry.objects.filter(group=crm_group).delete()
    LeadGroupScore.objects.all().delete()

    rescore(lead_ids=[lead.pk])
    assert LeadGroupScore.objects.get(lead=lead, group=crm_group).total == 4

    ScoreGroup.objects.filter(pk=crm_group.pk).update(weight_engagement=5)
    result = rescore(all_totals=True, cause="rule_change")
    assert result.leads_changed == 1
    assert LeadGroupScore.objects.get(lead=lead, group=crm_group).total == 20
