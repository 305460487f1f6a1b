"""Rules on who the lead is (its fields, custom fields, company): points once while the
condition holds, re-evaluated when the attribute changes, taken back when it stops."""

import pytest

from leadflow.leads.models import Category, Company, CustomFieldDefinition, Lead
from leadflow.leads.services import edit_lead
from leadflow.scoring.models import RuleKind, ScoreEntry, ScoreRule
from leadflow.scoring.services import rescore

pytestmark = pytest.mark.django_db


def _rule(name: str, condition: dict, points: int) -> ScoreRule:
    return ScoreRule.objects.create(name=name, kind=RuleKind.ATTRIBUTE, conditions=[condition],
                                    points=points, category=Category.FIT)


def _fit(lead: Lead) -> int:
    lead.refresh_from_db()
    return lead.fit_score


def test_a_director_gets_the_points_once_and_loses_them_when_the_title_changes(
        make_lead, admin_user):
    rule = _rule("Director", {"field": "title", "op": "contains", "value": "director"}, 15)
    lead = make_lead("mickael@example.com", title="Marketing Director")
    assert _fit(lead) == 15
    created = ScoreEntry.objects.get(rule=rule)
    assert created.event_id is None
    assert created.occurred_at == lead.events.get(type="lead_created").occurred_at

    edit_lead(lead, {"city": "Lyon"}, actor=admin_user)
    assert _fit(lead) == 15  # still holds: not given twice

    edit_lead(lead, {"title": "Intern"}, actor=admin_user)
    assert _fit(lead) == 0
    assert not ScoreEntry.objects.filter(rule=rule).exists()

    edit_lead(lead, {"title": "DIRECTOR of sales"}, actor=admin_user)
    assert _fit(lead) == 15


def test_country_one_of(make_lead, admin_user):
    _rule("Home markets", {"field": "country", "op": "one_of", "value": ["FR", "BE"]}, 5)
    french = make_lead("a@example.com", country="FR")
    german = make_lead("b@example.com", country="DE")
    assert (_fit(french), _fit(german)) == (5, 0)
    edit_lead(german, {"country": "BE"}, actor=admin_user)
    assert _fit(german) == 5


def test_company_size_at_least_50(make_lead, admin_user):
    _rule("Mid-size or larger", {"field": "company.size", "op": "gte", "value": 50}, 10)
    lead = make_lead("mickael@example.com")
    assert _fit(lead) == 0
    # No service links a lead to a company yet (the enrichment issue will).
    Lead.objects.filter(pk=lead.pk).update(company=Company.objects.create(name="Acme",
                                                                          size=120))
    edit_lead(lead, {"city": "Paris"}, actor=admin_user)
    assert _fit(lead) == 10


def test_an_attribute_rule_added_later_scores_existing_leads_at_rescore(make_lead):
    lead = make_lead("mickael@example.com", title="Director")
    _rule("Director", {"field": "title", "op": "contains", "value": "director"}, 15)
    assert _fit(lead) == 0
    result = rescore(cause="rule_change")
    assert (result.entries_added, result.leads_changed) == (1, 1)
    assert _fit(lead) == 15
    again = rescore()
    assert (again.entries_added, again.entries_removed, again.entries_changed) == (0, 0, 0)


def test_an_attribute_rule_on_a_custom_field(make_lead):
    CustomFieldDefinition.objects.create(key="plan", label="Plan")
    _rule("Pro plan", {"field": "custom.plan", "op": "equals", "value": "pro"}, 7)
    lead = make_lead("mickael@example.com", custom={"plan": "PRO"})
    assert _fit(lead) == 7
