"""A lead may have several opportunities (value, currency, product, expected close date);
each is won or lost once, with a reason; winning one makes the lead a customer."""

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead
from leadflow.sales.models import Opportunity

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP)


@pytest.fixture
def lead(make_lead, rep):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep, stage="sql")
    lead.refresh_from_db()
    return lead


def _open(api, lead, **extra):
    body = {"name": "Annual plan", "value": "1299.50", "currency": "eur",
            "product": "Pro", "expected_close": "2027-03-31", **extra}
    return api.post(f"/leads/{lead.pk}/opportunities", body)


def test_winning_an_opportunity_makes_the_lead_a_customer(api_for, rep, lead):
    api = api_for(rep)
    opened = _open(api, lead)
    assert opened.status_code == 201, opened.json()
    assert opened.json()["currency"] == "EUR" and opened.json()["stage"] == "open"
    assert str(Opportunity.objects.get().value) == "1299.50"
    other = _open(api, lead, name="Training", value="300").json()
    assert len(api.get(f"/leads/{lead.pk}/opportunities").json()) == 2

    lost = api.post(f"/leads/{lead.pk}/opportunities/{other['id']}/close",
                    {"stage": "lost", "reason": "no budget for training"})
    assert lost.status_code == 200 and lost.json()["stage"] == "lost"
    lead.refresh_from_db()
    assert lead.stage == "sql"  # one lost deal does not lose the lead

    won = api.post(f"/leads/{lead.pk}/opportunities/{opened.json()['id']}/close",
                   {"stage": "won", "reason": "signed"})
    assert won.status_code == 200 and won.json()["reason"] == "signed"
    lead.refresh_from_db()
    assert lead.stage == "customer"
    change = lead.stage_changes.get(to_stage="customer")
    assert change.cause == "opportunity" and change.actor == rep
    types = list(lead.events.order_by("pk").values_list("type", flat=True))
    assert types[-4:] == ["opportunity_closed", "opportunity_closed", "stage_changed", "won"]

    again = api.post(f"/leads/{lead.pk}/opportunities/{opened.json()['id']}/close",
                     {"stage": "lost"})
    assert again.status_code == 409


@pytest.mark.parametrize(("extra", "field"), [
    ({"currency": "EURO"}, "currency"), ({"value": "-1"}, "value"),
    ({"value": "1.234"}, "value"), ({"name": " "}, "name"),
])
def test_a_wrong_opportunity_is_a_422_naming_its_field(api_for, rep, lead, extra, field):
    answer = _open(api_for(rep), lead, **extra)
    assert answer.status_code == 422 and answer.json()["field"] == field
    assert not Opportunity.objects.exists()


def test_marketing_may_not_close_deals(api_for, make_user, rep, lead):
    api = api_for(rep)
    opp = _open(api, lead).json()
    marketer = make_user("mo", Role.MARKETING)
    refused = api_for(marketer).post(
        f"/leads/{lead.pk}/opportunities/{opp['id']}/close", {"stage": "won"})
    assert refused.status_code == 403
    assert Opportunity.objects.get().stage == "open"
