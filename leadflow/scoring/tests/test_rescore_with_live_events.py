"""A re-score that overlaps live events ends in the state of a re-score run after them:
the chunk's lead rows are locked in id order, and the pipeline locks a batch's leads before
reading what capped rules already counted (PostgreSQL: separate connections)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from leadflow.core import clock
from leadflow.leads.models import Category
from leadflow.scoring import rescore as rescore_module
from leadflow.scoring.models import ScoreRule
from leadflow.scoring.services import rescore
from leadflow.tracking.services import NewEvent, record_events


@pytest.mark.django_db(transaction=True)
def test_a_rescore_overlapping_live_events_ends_as_one_run_after_them(make_lead, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers on separate connections need PostgreSQL")
    monkeypatch.setattr(rescore_module, "CHUNK", 3)
    ScoreRule.objects.create(name="Visit", event_type="page_view", points=1)
    daily = ScoreRule.objects.create(name="Twice a day", event_type="page_view", points=4,
                                     max_times=2, per="day", category=Category.INTEREST)
    leads = [make_lead(f"p{i}@example.com") for i in range(24)]
    start = clock.now() - timedelta(days=10)
    record_events([NewEvent("page_view", lead_id=lead.pk,
                            occurred_at=start + timedelta(hours=7 * i + j))
                   for i, lead in enumerate(leads) for j in range(3)])
    ScoreRule.objects.filter(pk=daily.pk).update(points=9, max_times=1)
    done = threading.Event()
    batches = []

    def live() -> None:
        try:
            n = 0
            while not done.is_set() and n < 40:
                # Late and current events alike, several leads per batch.
                record_events([NewEvent("page_view", lead_id=leads[(n * 5 + k) % 24].pk,
                                        occurred_at=start + timedelta(hours=(n * 13) % 200))
                               for k in range(4)])
                n += 1
                batches.append(n)
        finally:
            connection.close()

    writer = threading.Thread(target=live)
    writer.start()
    try:
        for _ in range(3):
            rescore(cause="rule_change")
    finally:
        done.set()
        writer.join()

    assert batches  # the writer ran alongside
    after = rescore()
    assert (after.entries_added, after.entries_removed, after.entries_changed,
            after.leads_changed) == (0, 0, 0, 0)
