import json
import logging

import pytest

from leadflow.accounts.models import Role
from leadflow.leads.models import CustomFieldDefinition
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.lifecycle.services import change_stage
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(score_rules):
    CustomFieldDefinition.objects.create(key="budget", label="Budget", type="number")
    lead, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana",
                           "custom": {"budget": 5000}})
    record_consent(lead, granted=True, method="form", text_version="v1", ip="203.0.113.9")
    record_event("form_submitted", lead=lead, properties={"form": "ebook"})
    record_event("newsletter_signup", lead=lead)
    change_stage(lead, "mql")
    return lead


def test_api_export_holds_everything_about_the_person(api, lead):
    r = api.get(f"/leads/{lead.pk}/export")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["profile"]["email"] == "ana@acme.example"
    assert data["custom_fields"] == {"budget": 5000}
    assert data["consents"][0]["ip"] == "203.0.113.9"
    assert {"lead_created", "form_submitted", "newsletter_signup"} <= {
        e["type"] for e in data["events"]}
    assert [f["properties"] for f in data["form_submissions"]] == [{"form": "ebook"}]
    assert data["stage_changes"][0]["to_stage"] == "mql"
    assert data["score_entries"][0]["points"] == 5
    assert data["emails"] == [] and data["enrollments"] == []


def test_ui_export_downloads_a_json_file(client, admin_user, lead):
    client.force_login(admin_user)
    r = client.get(f"/leads/{lead.pk}/export.json")
    assert r.status_code == 200
    assert r["Content-Disposition"] == f'attachment; filename="lead-{lead.pk}.json"'
    assert json.loads(r.content)["profile"]["first_name"] == "Ana"


def test_a_rep_cannot_export_a_lead_they_do_not_see(api_for, make_user, lead):
    rep = make_user("rita", Role.SALES_REP)
    assert api_for(rep).get(f"/leads/{lead.pk}/export").status_code == 404


def test_export_is_logged_as_a_security_event(api, lead, caplog):
    with caplog.at_level(logging.INFO, logger="leadflow.security"):
        api.get(f"/leads/{lead.pk}/export")
    assert [r.message for r in caplog.records if r.name == "leadflow.security"] == [
        "personal data export"]


def test_export_holds_the_browsers_that_claimed_the_lead(api, lead):
    from leadflow.core import clock
    from leadflow.tracking.models import Visitor

    Visitor.objects.create(visitor_id="v-claim", claimed_lead=lead, claimed_via="identify",
                           first_seen=clock.now(), last_seen=clock.now())
    data = api.get(f"/leads/{lead.pk}/export").json()
    assert [v["visitor_id"] for v in data["claimed_visitors"]] == ["v-claim"]
