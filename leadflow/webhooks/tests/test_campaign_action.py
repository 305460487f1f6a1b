"""The campaign action "call a webhook": the step queues a delivery to the subscription
its config names, once per visit, and the step check refuses an unknown subscription."""

from __future__ import annotations

import json

import pytest

from leadflow.campaigns.editor import save_graph
from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core.errors import InvalidInput
from leadflow.tracking.services import record_event
from leadflow.webhooks.delivery import run_due
from leadflow.webhooks.models import Delivery


@pytest.fixture
def campaign(db, receiver, subscribe, admin_user):
    sub = subscribe(receiver.url, events=["lead.won"])
    campaign = Campaign.objects.create(name="Tell the CRM", entry_event_type="newsletter_signup")
    save_graph(admin_user, campaign, [{"position": 1, "kind": "call_webhook",
                                       "config": {"subscription_id": sub.pk}}])
    return campaign


def test_the_step_posts_the_lead_to_the_chosen_subscription(campaign, receiver, make_lead):
    lead = make_lead("ada@example.com")
    record_event("newsletter_signup", lead=lead)
    run_due_enrollments()
    assert Enrollment.objects.get().status == Enrollment.Status.COMPLETED
    run_due()
    [got] = receiver.requests
    payload = json.loads(got.body)
    assert payload["type"] == "campaign.step"
    assert payload["data"]["lead"]["email"] == "ada@example.com"
    assert payload["data"]["campaign"] == {"id": campaign.pk, "name": "Tell the CRM",
                                           "step": 1}


def test_a_step_run_twice_for_one_visit_queues_one_delivery(campaign, make_lead):
    from leadflow.campaigns.steps import Context
    from leadflow.campaigns.walk import Walker
    from leadflow.core import clock
    from leadflow.webhooks.steps import call_webhook

    lead = make_lead("ada@example.com")
    step = campaign.steps.get()
    for _ in range(2):
        walker = Walker(pk=7, lead_id=lead.pk, campaign_id=campaign.pk, position=1,
                        entered_at=clock.now(), step_since=None, loop=0)
        ctx = Context(now=clock.now(), campaigns={campaign.pk: campaign}, lead_ids={lead.pk})
        call_webhook(step, [walker], ctx)
        assert walker.outcome == "yes"
    assert Delivery.objects.filter(kind="campaign.step").count() == 1


def test_the_step_check_refuses_an_unknown_subscription(campaign, admin_user):
    with pytest.raises(InvalidInput) as e:
        save_graph(admin_user, campaign, [{"position": 1, "kind": "call_webhook",
                                           "config": {"subscription_id": 999_999}}])
    assert e.value.field == "steps.0.config.subscription_id"


def test_the_campaign_page_shows_the_step(campaign, client, admin_user):
    client.force_login(admin_user)
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert page.status_code == 200
    assert b"Call a webhook" in page.content
