"""The server app wires the ordered lists that core runs without naming any app."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from leadflow.campaigns import engine as campaigns
from leadflow.campaigns import entry as campaign_entry
from leadflow.core import periodic, pipeline
from leadflow.emails import dns_check, outbox
from leadflow.imports import services as imports
from leadflow.leads import retention, totals
from leadflow.lifecycle import services as lifecycle
from leadflow.notifications import deliverability
from leadflow.scoring import decay
from leadflow.scoring import jobs as rescores
from leadflow.scoring import services as scoring
from leadflow.segments import builds as segment_builds
from leadflow.segments import services as segments
from leadflow.segments import windows as segment_windows
from leadflow.tracking.services import record_halt


def test_pipeline_steps_run_scores_then_the_lead_write_then_stages_then_campaigns():
    from leadflow.notifications import services as notifications
    from leadflow.webhooks import services as webhooks

    # Hand-offs are told (notifications) before campaigns react; segments only queue
    # the leads to re-evaluate, after the stage moved; webhooks last, reading the leads
    # as the batch left them.
    assert pipeline._steps == (scoring.on_events, totals.on_events, lifecycle.on_events,
                               segments.on_events, notifications.on_events,
                               campaign_entry.on_events, webhooks.on_events)


def test_lifecycle_receives_the_rescores_of_scoring():
    from leadflow.lifecycle.transitions import on_scores_rebuilt
    from leadflow.scoring.signals import scores_rebuilt

    # Receivers are held by weak reference: calling one gives the function.
    assert on_scores_rebuilt in [ref() for _key, ref, *_ in scores_rebuilt.receivers]


def test_periodic_jobs_queue_campaign_emails_before_the_outbox_sends():
    from leadflow.lists import broadcasts
    from leadflow.sales import followups
    from leadflow.webhooks import delivery as webhooks

    assert periodic._jobs == (imports.run_due_jobs, rescores.run_due, decay.apply_decay,
                              segment_builds.run_due, segment_windows.check_time_windows,
                              segments.refresh_due,
                              campaigns.run_due_enrollments, broadcasts.run_due,
                              followups.send_due_reminders, outbox.send_due, webhooks.run_due,
                              retention.erase_due_automatically,
                              deliverability.alert_complaint_rates, dns_check.run_due)


def test_a_halted_cascade_is_recorded_by_tracking():
    assert pipeline._halt_recorder is record_halt


def test_dispatch_without_steps_refuses_rather_than_scoring_nothing(monkeypatch, db):
    monkeypatch.setattr(pipeline, "_steps", ())
    with pytest.raises(ImproperlyConfigured, match="leadflow.server"):
        pipeline._run([], [])


def test_every_hook_of_a_lower_app_is_registered_by_the_app_above():
    from leadflow.campaigns.services import on_merge_undone, on_merging
    from leadflow.capture.services import awaiting_confirmation_among
    from leadflow.emails import policy
    from leadflow.emails.bounces import forget_in_bounce_rows
    from leadflow.emails.erasure import forget_in_email_rows
    from leadflow.emails.provider_events import on_tracking
    from leadflow.imports.erasure import forget_in_imports
    from leadflow.leads import privacy, scorecard, signals
    from leadflow.leads.services import upsert_lead
    from leadflow.routing.services import on_leads_to_route
    from leadflow.scoring.explain import explain
    from leadflow.scoring.services import on_rows_moved
    from leadflow.tracking import events, visitors
    from leadflow.tracking.models import EventType

    assert visitors._identify_lead is upsert_lead
    assert scorecard._explainer is explain
    assert awaiting_confirmation_among in policy._marketing_holds
    assert {forget_in_email_rows, forget_in_bounce_rows, forget_in_imports} <= set(
        privacy._stores)
    from anymail.signals import tracking  # a provider's webhooks (emails.provider_events)

    assert on_tracking in [r() for _key, r, *_ in tracking.receivers]
    connected = {signal: [r() for _key, r, *_ in signal.receivers] for signal in (
        signals.leads_to_route, signals.merging, signals.merge_undone, signals.rows_moved)}
    assert on_leads_to_route in connected[signals.leads_to_route]
    assert on_merging in connected[signals.merging]
    assert on_merge_undone in connected[signals.merge_undone]
    from leadflow.lists import services as lists

    assert lists.on_merging in connected[signals.merging]
    assert lists.on_merge_undone in connected[signals.merge_undone]
    assert on_rows_moved in connected[signals.rows_moved]
    from leadflow.lists.signals import members_changed
    from leadflow.scoring.signals import scores_rebuilt
    from leadflow.segments import hooks
    from leadflow.segments.erasure import forget_memberships

    assert forget_memberships in privacy._stores
    assert hooks.on_merging in connected[signals.merging]
    assert hooks.on_merge_undone in connected[signals.merge_undone]
    assert hooks.on_fields_changed in [r() for _k, r, *_ in signals.fields_changed.receivers]
    assert hooks.on_scores_rebuilt in [r() for _k, r, *_ in scores_rebuilt.receivers]
    assert hooks.on_list_changed in [r() for _k, r, *_ in members_changed.receivers]
    from leadflow.campaigns.entry import on_segment_changed
    from leadflow.segments.signals import membership_changed

    assert on_segment_changed in [r() for _k, r, *_ in membership_changed.receivers]
    from leadflow.campaigns.steps import kind_of
    from leadflow.webhooks.services import send_erasures
    from leadflow.webhooks.steps import CALL_WEBHOOK, call_webhook, check_config

    assert send_erasures in privacy._stores
    found = kind_of(CALL_WEBHOOK)
    assert found is not None and (found.run, found.check) == (call_webhook, check_config)
    assert events.REGISTRY[EventType.LEAD_CREATED].detail is not None
    assert events.REGISTRY[EventType.STAGE_CHANGED].title is not None
    assert events.REGISTRY[EventType.QUALITY_FLAGS_CHANGED].detail is not None
