"""Each condition operator, as the pipeline applies it (Python) and as a re-score applies it
(SQL): the same events score the same, on SQLite and PostgreSQL."""

import pytest

from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Category
from leadflow.scoring.conditions import matches, validate_conditions
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.scoring.services import rescore
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

EVENTS = [
    {"asset": "Automation-Strategy.pdf", "pages": 12, "gated": True},
    {"asset": "what-is-automation", "pages": 3.5, "gated": False},
    {"asset": "AUTOMATION strategy", "pages": "12"},
    {"asset": "", "pages": None},
    {"other": 1},
]

CASES = [
    ({"field": "asset", "op": "equals", "value": "automation-strategy.PDF"}, [0]),
    ({"field": "asset", "op": "contains", "value": "strategy"}, [0, 2]),
    ({"field": "asset", "op": "starts_with", "value": "automation"}, [0, 2]),
    ({"field": "asset", "op": "one_of", "value": ["what-is-automation", "nothing"]}, [1]),
    ({"field": "pages", "op": "gt", "value": 3.5}, [0]),
    ({"field": "pages", "op": "gte", "value": 3.5}, [0, 1]),
    ({"field": "pages", "op": "lt", "value": 12}, [1]),
    ({"field": "pages", "op": "lte", "value": 12}, [0, 1]),
    ({"field": "pages", "op": "equals", "value": 12}, [0]),
    ({"field": "pages", "op": "one_of", "value": [12, "12"]}, [0, 2]),
    ({"field": "gated", "op": "equals", "value": True}, [0]),
    ({"field": "gated", "op": "equals", "value": False}, [1]),
    ({"field": "asset", "op": "exists", "value": True}, [0, 1, 2]),
    ({"field": "asset", "op": "exists", "value": False}, [3, 4]),
    ({"field": "pages", "op": "exists", "value": False}, [3, 4]),
]


@pytest.mark.parametrize(("condition", "expected"), CASES,
                         ids=[f"{c['op']}-{c['value']}" for c, _ in CASES])
def test_each_operator_means_the_same_in_the_pipeline_and_in_a_rescore(make_lead, condition,
                                                                       expected):
    rule = ScoreRule.objects.create(name="Download", event_type="content_download",
                                    conditions=[condition], points=1,
                                    category=Category.INTEREST)
    lead = make_lead("mickael@example.com")
    events = [record_event("content_download", lead=lead, properties=p)[0] for p in EVENTS]

    def scored() -> list[int]:
        ids = set(ScoreEntry.objects.filter(rule=rule).values_list("event_id", flat=True))
        return [i for i, e in enumerate(events) if e.pk in ids]

    assert [i for i, p in enumerate(EVENTS) if matches([condition], p)] == expected
    assert scored() == expected
    ScoreEntry.objects.filter(rule=rule).delete()

    rescore(lead_ids=[lead.pk])

    assert scored() == expected
    lead.refresh_from_db()
    assert lead.interest_score == len(expected)


def test_all_conditions_of_a_rule_must_hold(make_lead):
    ScoreRule.objects.create(name="Long strategy paper", event_type="content_download",
                             conditions=[{"field": "asset", "op": "contains", "value": "strat"},
                                         {"field": "pages", "op": "gte", "value": 10}],
                             points=15, category=Category.INTEREST)
    lead = make_lead("mickael@example.com")
    for p in EVENTS:
        record_event("content_download", lead=lead, properties=p)
    lead.refresh_from_db()
    assert lead.interest_score == 15


@pytest.mark.parametrize("conditions", [
    "not a list",
    [{"field": "asset", "op": "like", "value": "x"}],
    [{"field": "asset", "op": "gt", "value": "ten"}],
    [{"field": "asset", "op": "contains", "value": ""}],
    [{"field": "asset", "op": "one_of", "value": []}],
    [{"field": "asset", "op": "exists", "value": "yes"}],
    [{"field": "a.b\"c", "op": "equals", "value": "x"}],
    [{"field": "asset", "op": "equals"}],
])
def test_invalid_conditions_are_refused_with_a_message(conditions):
    with pytest.raises(InvalidInput) as refused:
        validate_conditions("event", conditions)
    assert str(refused.value)


def test_attribute_conditions_name_lead_and_company_fields():
    assert validate_conditions("attribute", [
        {"field": "title", "op": "contains", "value": "Director"},
        {"field": "company.size", "op": "gte", "value": 50},
        {"field": "custom.plan", "op": "equals", "value": "pro"}])
    with pytest.raises(InvalidInput):
        validate_conditions("attribute", [{"field": "password", "op": "exists",
                                           "value": True}])
