"""Pipeline order: events a step records are dispatched after every step of the current
batch has run (breadth-first, same transaction); a runaway cascade stops and says so."""

import logging

import pytest
from django.db import transaction

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import pipeline
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageThreshold
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.models import Event, EventType
from leadflow.tracking.services import NewEvent, record_event, record_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def welcome_until_mql(db) -> Campaign:
    """A sign-up is worth 30 points, MQL starts at 20, and the welcome campaign (entered on
    sign-up) has reached its goal once the lead's stage changes."""
    ScoreRule.objects.create(name="Sign-up", event_type=EventType.NEWSLETTER_SIGNUP, points=30)
    StageThreshold.objects.update_or_create(stage=Stage.MQL, defaults={"min_score": 20})
    return Campaign.objects.create(name="Welcome", entry_event_type=EventType.NEWSLETTER_SIGNUP,
                                   goal_event_type=EventType.STAGE_CHANGED)


def test_a_sign_up_that_makes_the_lead_mql_leaves_the_campaign_whose_goal_is_a_stage_change(
        welcome_until_mql, make_lead, api):
    lead = make_lead("ada@example.com")
    r = api.post("/events", {"events": [{"type": "newsletter_signup", "lead_id": lead.pk}]})
    assert r.status_code == 200, r.content
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    enrollment = Enrollment.objects.get(lead=lead, campaign=welcome_until_mql)
    assert enrollment.status == Enrollment.Status.CONVERTED
    assert enrollment.exit_reason == "goal reached: stage_changed"


@pytest.fixture
def batches(monkeypatch) -> list[list[str]]:
    """The event types of each batch the pipeline dispatches, in order, seen by an extra
    last step (as any new consumer would be added)."""
    seen: list[list[str]] = []
    monkeypatch.setattr(pipeline, "_steps", (*pipeline._steps,
                                             lambda b: seen.append([e.type for e in b.events])))
    return seen



def test_events_recorded_by_steps_are_dispatched_together_after_the_batch(
        welcome_until_mql, make_lead, batches):
    lead = make_lead("ada@example.com")
    batches.clear()
    record_event(EventType.NEWSLETTER_SIGNUP, lead=lead)
    # The stage change and the hand-off it makes (lifecycle: MQL is the hand-off stage) and
    # the enrolment (campaigns) form one follow-up batch, and the enrolment's goal makes a
    # third: campaign_left, which nothing reacts to.
    assert batches == [[EventType.NEWSLETTER_SIGNUP],
                       [EventType.STAGE_CHANGED, EventType.HANDED_OFF,
                        EventType.CAMPAIGN_ENTERED],
                       [EventType.CAMPAIGN_LEFT]]
    stored = list(Event.objects.filter(lead=lead).order_by("id").values_list("type", flat=True))
    assert stored[-5:] == [EventType.NEWSLETTER_SIGNUP, EventType.STAGE_CHANGED,
                           EventType.HANDED_OFF, EventType.CAMPAIGN_ENTERED,
                           EventType.CAMPAIGN_LEFT]


def test_a_cascade_deeper_than_the_limit_stops_and_is_put_on_the_timeline(
        make_lead, batches, caplog):
    # Entering on leaving and leaving on entering: each batch records the next one's event.
    Campaign.objects.create(name="Revolving door", entry_event_type=EventType.CAMPAIGN_LEFT,
                            goal_event_type=EventType.CAMPAIGN_ENTERED)
    lead = make_lead("ada@example.com")
    batches.clear()
    with caplog.at_level(logging.ERROR, logger="leadflow.core.pipeline"):
        record_event(EventType.CAMPAIGN_LEFT, lead=lead)
    assert len(batches) == pipeline.MAX_DEPTH
    halted = Event.objects.get(lead=lead, type=EventType.PIPELINE_HALTED)
    assert halted.properties["depth"] == pipeline.MAX_DEPTH
    assert "halted" in caplog.text and str(lead.pk) in caplog.text
    # Stored, so the timeline shows how far it went, but never dispatched.
    assert [EventType.PIPELINE_HALTED] not in batches


def test_events_of_a_rolled_back_savepoint_are_not_dispatched(make_lead, batches,
                                                               monkeypatch):
    lead = make_lead("ada@example.com")

    def records_then_fails(batch):
        if any(e.type == "ping" for e in batch.events):
            try:
                with transaction.atomic():
                    record_events([NewEvent(type="ghost", lead_id=lead.pk)])
                    raise RuntimeError("a step's own work failed")
            except RuntimeError:
                pass
            record_events([NewEvent(type="kept", lead_id=lead.pk)])

    monkeypatch.setattr(pipeline, "_steps", (records_then_fails, *pipeline._steps))
    batches.clear()
    record_event("ping", lead=lead)
    assert batches == [["ping"], ["kept"]]
    assert not Event.objects.filter(type="ghost").exists()
