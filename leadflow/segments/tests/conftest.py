"""Fixtures of the segment tests: leads with events, and a marketer to manage segments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.segments.builds import run_due
from leadflow.tracking.services import NewEvent, record_events


@pytest.fixture
def marketer(make_user):
    return make_user("mia", Role.MARKETING)


@pytest.fixture
def events():
    """record(lead, type, n=1, days_ago=0, **properties): n events of the lead, as its
    browser or the customer's server would send them."""

    def record(lead, type: str, n: int = 1, days_ago: float = 0, **properties) -> None:
        at = clock.now() - timedelta(days=days_ago)
        record_events([NewEvent(type=type, lead_id=lead.pk, properties=dict(properties),
                                occurred_at=at) for _ in range(n)], via="api")

    return record


@pytest.fixture
def tv_viewer(make_lead, events):
    """Story 4: a lead who viewed six TV pages, and one who viewed five."""

    def make(email: str, views: int):
        lead = make_lead(email)
        events(lead, "page_view", views, url="https://shop.example/tv/oled-55")
        events(lead, "page_view", 3, url="https://shop.example/radio/")
        return lead

    return make


TV = {"event": {"type": "page_view", "where": [{"field": "url", "op": "contains",
                                                "value": "/tv/"}], "min": 6}}


def built(segment):
    """The segment once a worker has built it: the worker's job run here, as its tick
    would (segments.builds.run_due), and the segment read again."""
    run_due()
    segment.refresh_from_db()
    return segment
