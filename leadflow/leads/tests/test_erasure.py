import logging

import pytest

from leadflow.accounts.models import Role
from leadflow.analytics.services import summary
from leadflow.emails.models import EmailMessage
from leadflow.leads.models import Consent, ErasureRecord, Lead
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.lifecycle.services import mark_outcome
from leadflow.scoring.models import ScoreEntry
from leadflow.tracking.models import Event, Visitor
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(score_rules):
    from leadflow.core import clock

    lead, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana",
                           "phone": "+33612345678", "source": "fair"})
    record_consent(lead, granted=True, method="form", ip="203.0.113.9")
    record_event("newsletter_signup", lead=lead, properties={"email": "ana@acme.example"})
    Visitor.objects.create(visitor_id="v-ana", lead=lead, first_seen=clock.now(),
                           last_seen=clock.now())
    record_event("page_view", visitor_id="v-ana", properties={"url": "https://x/?e=ana"})
    EmailMessage.objects.create(lead=lead, dedupe_key="k1", to_email="ana@acme.example",
                                subject="Hi", status="sent")
    mark_outcome(lead, "won")
    return lead


def assert_nothing_personal_left(lead_id):
    tomb = Lead.objects.get(pk=lead_id)
    assert tomb.erased_at is not None
    assert (tomb.email, tomb.first_name, tomb.phone, tomb.custom) == (None, "", "", {})
    assert not Event.objects.filter(lead_id=lead_id).exists()
    assert not Event.objects.filter(visitor_id="v-ana").exists()
    assert not Consent.objects.filter(lead_id=lead_id).exists()
    assert not EmailMessage.objects.filter(lead_id=lead_id).exists()
    assert not ScoreEntry.objects.filter(lead_id=lead_id).exists()
    assert not Visitor.objects.filter(visitor_id="v-ana").exists()
    assert not Lead.objects.filter(email="ana@acme.example").exists()


def test_api_erase_removes_the_personal_data(api, lead, admin_user):
    r = api.post(f"/leads/{lead.pk}/erase")
    assert r.status_code == 200, r.content
    assert_nothing_personal_left(lead.pk)
    record = ErasureRecord.objects.get()
    assert (record.lead_id, record.actor) == (lead.pk, admin_user)
    assert "ana" not in str(record.deleted).lower()


def test_erased_lead_is_gone_from_lists_pages_and_api(api, lead, client, admin_user):
    api.post(f"/leads/{lead.pk}/erase")
    assert api.get(f"/leads/{lead.pk}").status_code == 404
    assert api.get("/leads").json()["count"] == 0
    client.force_login(admin_user)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404


def test_reports_still_count_the_erased_lead_anonymously(api, lead, admin_user):
    before = summary(admin_user)
    api.post(f"/leads/{lead.pk}/erase")
    after = summary(admin_user)
    assert (after.total, after.won) == (before.total, before.won) == (1, 1)
    assert [(r.source, r.leads) for r in after.by_source] == [("fair", 1)]


def test_ui_erase_has_a_confirmation_step(client, lead, make_user):
    marketer = make_user("mia", Role.MARKETING)
    client.force_login(marketer)
    page = client.get(f"/leads/{lead.pk}/erase")
    assert page.status_code == 200 and b"Erase permanently" in page.content
    assert Lead.objects.get(pk=lead.pk).erased_at is None  # GET changes nothing
    assert client.post(f"/leads/{lead.pk}/erase").status_code == 200  # no confirm=yes
    assert Lead.objects.get(pk=lead.pk).erased_at is None
    r = client.post(f"/leads/{lead.pk}/erase", {"confirm": "yes"})
    assert r.status_code == 302
    assert_nothing_personal_left(lead.pk)


def test_a_rep_may_not_erase(api_for, client, lead, make_user):
    rep = make_user("rita", Role.SALES_REP)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    assert api_for(rep).post(f"/leads/{lead.pk}/erase").status_code == 403
    client.force_login(rep)
    assert client.post(f"/leads/{lead.pk}/erase", {"confirm": "yes"}).status_code == 403
    assert b"Erase this person" not in client.get(f"/leads/{lead.pk}/").content
    assert Lead.objects.get(pk=lead.pk).email == "ana@acme.example"


def test_the_same_person_can_come_back_as_a_new_lead(api, lead):
    api.post(f"/leads/{lead.pk}/erase")
    r = api.post("/leads", {"email": "ana@acme.example"})
    assert r.status_code == 201 and r.json()["id"] != lead.pk


def test_erasure_is_logged_as_a_security_event(api, lead, caplog):
    with caplog.at_level(logging.INFO, logger="leadflow.security"):
        api.post(f"/leads/{lead.pk}/erase")
    assert "personal data erased" in [r.message for r in caplog.records]


def test_erasure_deletes_browsers_that_only_claimed_the_lead_and_their_visits(api, lead):
    from leadflow.core import clock

    # An unverified identify: the browser claims the lead, its visits stay anonymous.
    Visitor.objects.create(visitor_id="v-claim", claimed_lead=lead, claimed_via="identify",
                           first_seen=clock.now(), last_seen=clock.now())
    record_event("page_view", visitor_id="v-claim", properties={"url": "https://x/?e=ana"})
    r = api.post(f"/leads/{lead.pk}/erase")
    assert r.status_code == 200, r.content
    assert not Visitor.objects.filter(visitor_id="v-claim").exists()
    assert not Event.objects.filter(visitor_id="v-claim").exists()
