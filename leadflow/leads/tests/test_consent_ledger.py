import pytest

from leadflow.leads.models import Consent
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead():
    lead, _ = upsert_lead({"email": "ana@acme.example"})
    record_consent(lead, granted=True, method="form", text="Send me news",
                   text_version="v3", ip="203.0.113.9", page_url="https://acme.example/x")
    return lead


def test_lead_page_shows_the_ledger(client, admin_user, lead):
    client.force_login(admin_user)
    body = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Consent ledger" in body
    assert 'data-action="granted"' in body and "v3" in body and "form" in body


def test_withdraw_consent_records_a_withdrawal(client, make_user, lead):
    from leadflow.accounts.models import Role

    rep = make_user("rita", Role.SALES_REP)
    lead.owner = rep
    lead.save()
    client.force_login(rep)  # as easy as giving it: anyone who sees the lead
    r = client.post(f"/leads/{lead.pk}/consent/withdraw")
    assert r.status_code == 302
    lead.refresh_from_db()
    assert lead.marketing_consent is False and lead.do_not_email is True
    assert list(Consent.objects.filter(lead=lead).values_list("action", flat=True)) == [
        "withdrawn", "granted"]
    assert Event.objects.filter(lead=lead, type="consent_withdrawn").count() == 1
    body = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'data-action="withdrawn"' in body
    assert "Withdraw consent" not in body  # nothing left to withdraw


def test_withdraw_needs_post(client, admin_user, lead):
    client.force_login(admin_user)
    assert client.get(f"/leads/{lead.pk}/consent/withdraw").status_code == 405
