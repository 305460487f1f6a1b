"""The server app wires the ordered lists that core runs without naming any app."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from leadflow.campaigns import services as campaigns
from leadflow.core import periodic, pipeline
from leadflow.emails import outbox
from leadflow.imports import services as imports
from leadflow.leads import retention, totals
from leadflow.lifecycle import services as lifecycle
from leadflow.scoring import services as scoring
from leadflow.tracking.services import record_halt


def test_pipeline_steps_run_scores_then_the_lead_write_then_stages_then_campaigns():
    assert pipeline._steps == (scoring.on_events, totals.on_events, lifecycle.on_events,
                               campaigns.on_events)


def test_periodic_jobs_queue_campaign_emails_before_the_outbox_sends():
    assert periodic._jobs == (imports.run_due_jobs, campaigns.run_due_enrollments,
                              outbox.send_due, retention.erase_due_automatically)


def test_a_halted_cascade_is_recorded_by_tracking():
    assert pipeline._halt_recorder is record_halt


def test_dispatch_without_steps_refuses_rather_than_scoring_nothing(monkeypatch, db):
    monkeypatch.setattr(pipeline, "_steps", ())
    with pytest.raises(ImproperlyConfigured, match="leadflow.server"):
        pipeline._run([], [])
