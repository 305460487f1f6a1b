"""Membership that changes with no event: a time window expires, a lead goes silent for
long enough. The clock job queues those leads within one look (every 30 s), and the
refresh moves them, with "time window expired" in their history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadflow.core import clock, periodic
from leadflow.segments import services, windows
from leadflow.segments.models import SegmentChange, SegmentMember
from leadflow.segments.tests.conftest import built

pytestmark = pytest.mark.django_db

RECENT_TV = {"event": {"type": "page_view", "where": [
    {"field": "url", "op": "contains", "value": "/tv/"}], "min": 6, "within_days": 30}}


def _members(segment) -> set[int]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("lead_id", flat=True))


def test_a_lead_leaves_when_its_views_fall_out_of_the_window(marketer, make_lead, events):
    lead = make_lead("tv@example.com")
    events(lead, "page_view", 6, days_ago=29, url="/tv/oled")
    other = make_lead("fresh@example.com")
    events(other, "page_view", 6, days_ago=1, url="/tv/oled")
    segment = built(services.create_segment(marketer, name="Recent TV", filter=RECENT_TV))
    assert segment.time_dependent
    assert _members(segment) == {lead.pk, other.pk}

    clock.advance(timedelta(days=1, hours=12))
    periodic.tick()  # the clock job queues, the refresh moves

    assert _members(segment) == {other.pk}
    change = SegmentChange.objects.filter(segment=segment).latest("id")
    assert (change.lead_id, change.entered, change.reason) == (lead.pk, False,
                                                               "time window expired")
    segment.refresh_from_db()
    assert segment.member_count == 1


def test_the_clock_looks_at_most_every_30_seconds(marketer, make_lead, events):
    lead = make_lead("tv@example.com")
    events(lead, "page_view", 6, days_ago=30 - 10 / 86400, url="/tv/oled")  # 10 s left
    segment = built(services.create_segment(marketer, name="Recent TV", filter=RECENT_TV))

    clock.advance(timedelta(seconds=5))
    assert windows.check_time_windows() == 0
    clock.advance(timedelta(seconds=10))
    assert windows.check_time_windows() == 0  # out of the window, but looked 10 s ago
    clock.advance(windows.CLOCK_EVERY)
    assert windows.check_time_windows() == 1
    services.refresh_due()
    assert _members(segment) == set()


def test_a_silent_lead_enters_an_inactivity_segment_with_no_event(marketer, make_lead,
                                                                 events):
    quiet = make_lead("quiet@example.com")
    busy = make_lead("busy@example.com")
    segment = built(services.create_segment(marketer, name="Asleep", filter={"inactive_days": 90}))
    assert _members(segment) == set()

    clock.advance(timedelta(days=60))
    events(busy, "page_view", url="/pricing")
    clock.advance(timedelta(days=31))
    periodic.tick()

    assert _members(segment) == {quiet.pk}
    clock.advance(timedelta(days=60))
    periodic.tick()
    assert _members(segment) == {quiet.pk, busy.pk}

    events(busy, "page_view", url="/pricing")  # back: active again
    periodic.tick()
    assert _members(segment) == {quiet.pk}


def test_what_we_do_to_a_lead_is_not_its_activity(marketer, make_lead, events):
    lead = make_lead("quiet@example.com")
    segment = built(services.create_segment(marketer, name="Asleep", filter={"inactive_days": 90}))
    clock.advance(timedelta(days=89))
    events(lead, "email_sent", subject="Hello")
    clock.advance(timedelta(days=2))
    periodic.tick()
    assert _members(segment) == {lead.pk}


def test_not_opened_in_30_days_becomes_true_when_the_last_open_ages(marketer, make_lead,
                                                                   events):
    lead = make_lead("reader@example.com")
    events(lead, "email_opened", days_ago=20, engagement="human", message_id=1)
    segment = built(services.create_segment(marketer, name="Not reading", filter={
        "email": {"action": "not_opened", "within_days": 30}}))
    assert _members(segment) == set()

    clock.advance(timedelta(days=11))
    periodic.tick()
    assert _members(segment) == {lead.pk}
