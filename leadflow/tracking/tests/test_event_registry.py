"""The event-type registry (tracking.events): the one place that names each event type,
who may record it and how it reads; the API and the timeline follow it."""

import pytest
from django.test import Client
from django.utils import translation

from leadflow.tracking import events
from leadflow.tracking.models import Event, EventType

pytestmark = pytest.mark.django_db


def test_every_event_type_constant_is_declared():
    constants = {v for k, v in vars(EventType).items() if k.isupper() and isinstance(v, str)}
    assert constants - events.REGISTRY.keys() == set()


def test_the_last_touch_sets_come_from_the_registry_unchanged():
    assert {
        "lead_updated", "assigned", "stage_changed", "score_changed", "email_sent",
        "campaign_entered", "campaign_left", "campaign_points", "points_adjusted", "won",
        "lost", "note", "quality_flags_changed", "change_proposed", "email_failed",
        "campaign_step_failed", "handed_off", "email_bounced", "email_skipped",
        "pipeline_halted", "call_logged", "email_logged", "meeting_logged",
        "opportunity_opened", "opportunity_closed"} == EventType.OUR_ACTIONS
    assert {*EventType.OUR_ACTIONS, "lead_created"} == EventType.KEEP_LAST_TOUCH


def test_labels_are_translated():
    with translation.override("fr"):
        assert events.label("page_view") == "A consulté une page"
        assert events.label("merged") == "Fusionné avec un autre prospect"
    assert events.label("webinar_attended") == "Webinar attended"


@pytest.mark.parametrize("forged", ["merged", "merge_undone", "consent_withdrawn",
                                    "optin_confirmed", "stage_changed", "won", "assigned",
                                    "handed_off",
                                    "lead_created", "assessment_completed"])
def test_the_api_refuses_leadflow_only_types(api, make_lead, forged):
    lead = make_lead("ana@example.com")
    before = Event.objects.filter(type=forged).count()
    r = api.post("/events", {"events": [
        {"type": forged, "lead_id": lead.pk, "properties": {"merge_id": 1}}]})

    assert r.status_code == 200
    [result] = r.json()["results"]
    assert result["status"] == "error"
    assert "recorded by Leadflow itself" in result["message"]
    assert Event.objects.filter(type=forged).count() == before


def test_the_api_takes_a_customers_own_types_and_api_types(api, make_lead):
    lead = make_lead("ana@example.com")
    r = api.post("/events", {"events": [
        {"type": "webinar_attended", "lead_id": lead.pk},
        {"type": "form_submitted", "lead_id": lead.pk, "properties": {"form": "crm"}},
        {"type": "note", "lead_id": lead.pk, "properties": {"text": "called"}}]})

    assert r.json()["created"] == 3


def test_the_timeline_reads_each_type_from_the_registry(make_lead, admin_user):
    from leadflow.tracking.services import record_event

    lead = make_lead("ana@example.com")
    record_event("download", lead=lead, properties={"url": "https://x.example/guide.pdf"})
    record_event("webinar_attended", lead=lead, properties={"webinar": "Q3 launch"})
    client = Client()
    client.force_login(admin_user)

    page = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "Downloaded a file" in page and "https://x.example/guide.pdf" in page
    assert "Webinar attended" in page and "webinar: Q3 launch" in page
