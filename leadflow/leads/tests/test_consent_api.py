"""Consent given or withdrawn elsewhere (the customer's own sign-up page, a call) is
recorded through the API with its proof, within the caller's scope."""

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import Consent

pytestmark = pytest.mark.django_db

PROOF = {"granted": True, "text": "Send me the newsletter.", "text_version": "v3",
         "page_url": "https://example.com/signup", "ip": "203.0.113.9"}


def test_a_consent_with_its_proof_is_kept_and_lets_marketing_go(api_for, make_user,
                                                                   make_lead):
    lead = make_lead("ana@example.com")
    api = api_for(make_user("marie", Role.MARKETING))

    r = api.post(f"/leads/{lead.pk}/consents", PROOF)

    assert r.status_code == 201, r.content
    assert r.json()["marketing_consent"] is True and r.json()["method"] == "api"
    consent = Consent.objects.get(lead=lead)
    assert (consent.text, consent.text_version, consent.page_url, consent.ip) == (
        "Send me the newsletter.", "v3", "https://example.com/signup", "203.0.113.9")
    lead.refresh_from_db()
    assert lead.marketing_consent and not lead.do_not_email


def test_a_withdrawal_stops_email_and_a_new_consent_lifts_it(api_for, make_user, make_lead):
    lead = make_lead("ana@example.com")
    api = api_for(make_user("marie", Role.MARKETING))

    assert api.post(f"/leads/{lead.pk}/consents", {"granted": False}).status_code == 201
    lead.refresh_from_db()
    assert (lead.marketing_consent, lead.do_not_email) == (False, True)
    assert api.post(f"/leads/{lead.pk}/consents", PROOF).status_code == 201
    lead.refresh_from_db()
    assert (lead.marketing_consent, lead.do_not_email) == (True, False)


@pytest.mark.parametrize(("change", "field"), [({"text": " "}, "text"), ({"ip": "nope"}, "ip"),
                                             ({"text": "a\x00b"}, "text")])
def test_a_consent_without_proof_or_with_a_bad_address_is_refused(
        api_for, make_user, make_lead, change, field):
    lead = make_lead("ana@example.com")
    api = api_for(make_user("marie", Role.MARKETING))

    r = api.post(f"/leads/{lead.pk}/consents", {**PROOF, **change})

    assert r.status_code == 422 and r.json()["field"] == field
    assert not Consent.objects.exists()


def test_a_rep_cannot_record_consent_for_a_lead_outside_their_scope(
        api_for, make_user, make_lead):
    other = make_user("paul", Role.SALES_REP)
    lead = make_lead("ana@example.com", owner=other)
    api = api_for(make_user("rita", Role.SALES_REP))

    assert api.post(f"/leads/{lead.pk}/consents", PROOF).status_code == 404
    assert not Consent.objects.exists()
