"""The Django admin edits configuration only: lead data (the lead, its timeline, ledgers,
messages, enrollments) is read-only there, and changes to it are admin actions that call
the services, with their events."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.leads.models import ErasureRecord, Lead
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def lead(make_lead):
    return make_lead("ada@example.com", first_name="Ada")


def test_posting_a_changed_owner_email_or_erasure_date_to_the_lead_page_changes_nothing(
        admin_client, lead, make_user):
    rep = make_user("rita", Role.SALES_REP)
    r = admin_client.post(f"/admin/leads/lead/{lead.pk}/change/", {
        "email": "mallory@example.com", "first_name": "Ada", "owner": rep.pk,
        "erased_at_0": "2026-01-01", "erased_at_1": "00:00:00", "do_not_email": "on",
        "quality_flags": "[]", "custom": "{}", "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0"})
    assert r.status_code == 403
    lead.refresh_from_db()
    assert (lead.email, lead.owner_id, lead.erased_at, lead.do_not_email) == (
        "ada@example.com", None, None, False)
    # The page still shows the lead, read-only.
    page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/")
    assert page.status_code == 200 and b"ada@example.com" in page.content
    assert b'name="email"' not in page.content


@pytest.mark.parametrize("url", [
    "/admin/leads/lead/add/", "/admin/leads/company/add/", "/admin/tracking/event/add/",
    "/admin/tracking/visitor/add/", "/admin/campaigns/enrollment/add/",
    "/admin/emails/emailmessage/add/", "/admin/imports/importjob/add/",
    "/admin/capture/formconsentversion/add/", "/admin/capture/formrejection/add/"])
def test_lead_data_cannot_be_added_in_the_admin(admin_client, url):
    assert admin_client.post(url, {}).status_code == 403


def test_lead_data_cannot_be_deleted_in_the_admin(admin_client, lead):
    campaign = Campaign.objects.create(name="Welcome", entry_event_type="signup")
    enrollment = Enrollment.objects.create(campaign=campaign, lead=lead,
                                           entered_at=lead.created_at)
    event = Event.objects.filter(lead=lead).first()
    for url in (f"/admin/leads/lead/{lead.pk}/delete/",
                f"/admin/tracking/event/{event.pk}/delete/",
                f"/admin/campaigns/enrollment/{enrollment.pk}/delete/"):
        assert admin_client.post(url, {"post": "yes"}).status_code == 403, url
    changed = admin_client.post(f"/admin/campaigns/enrollment/{enrollment.pk}/change/",
                                {"status": "exited", "next_position": "9"})
    assert changed.status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists() and Event.objects.filter(pk=event.pk).exists()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.next_position) == (Enrollment.Status.ACTIVE, 1)


def test_the_assign_action_goes_through_the_assignment_service_with_its_event(
        admin_client, admin_user, lead, make_lead, make_user):
    other = make_lead("bob@example.com")
    rep = make_user("rita", Role.SALES_REP)
    chosen = {"action": "assign_to_rep", ACTION_CHECKBOX_NAME: [lead.pk, other.pk]}
    asked = admin_client.post("/admin/leads/lead/", chosen)
    assert asked.status_code == 200 and b"rita" in asked.content  # the rep to choose
    r = admin_client.post("/admin/leads/lead/", {**chosen, "apply": "yes", "rep": rep.pk})
    assert r.status_code == 302
    assert set(Lead.objects.values_list("owner", flat=True)) == {rep.pk}
    event = lead.events.get(type=EventType.ASSIGNED)
    assert (event.actor, event.via, event.properties["owner_id"]) == (admin_user, "ui", rep.pk)
    assert event.properties["reason"] == "assigned in the admin"


def test_the_erase_action_goes_through_the_erasure_service(admin_client, admin_user, lead):
    chosen = {"action": "erase_people", ACTION_CHECKBOX_NAME: [lead.pk]}
    asked = admin_client.post("/admin/leads/lead/", chosen)
    assert asked.status_code == 200 and b"cannot be undone" in asked.content
    lead.refresh_from_db()
    assert lead.erased_at is None  # nothing happens before the confirmation
    r = admin_client.post("/admin/leads/lead/", {**chosen, "apply": "yes"})
    assert r.status_code == 302
    lead.refresh_from_db()
    assert lead.erased_at is not None and lead.email != "ada@example.com"
    assert ErasureRecord.objects.get(lead_id=lead.pk).actor == admin_user


def test_configuration_stays_editable_in_the_admin(admin_client):
    rule = ScoreRule.objects.create(name="Sign-up", event_type="newsletter_signup", points=5)
    r = admin_client.post(f"/admin/scoring/scorerule/{rule.pk}/change/", {
        "name": "Sign-up", "event_type": "newsletter_signup", "conditions": "[]",
        "points": "8", "category": rule.category, "group": rule.group_id, "kind": "event",
        "active": "on"})
    assert r.status_code == 302, r.content[:2000]
    rule.refresh_from_db()
    assert rule.points == 8
