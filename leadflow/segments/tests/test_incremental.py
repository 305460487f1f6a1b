"""Membership stays current as events and lead changes arrive: the pipeline queues the
leads a batch concerns, the refresh job (a worker, woken after the commit) re-evaluates
them set-based, in the same number of queries for 10 and 1,000 leads."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.core import periodic
from leadflow.leads.services import consent_by, edit_lead
from leadflow.segments import services
from leadflow.segments.models import DirtyLead, SegmentChange, SegmentMember
from leadflow.segments.tests.conftest import TV, built
from leadflow.tracking.services import NewEvent, record_events

pytestmark = pytest.mark.django_db


def _members(segment) -> set[int]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("lead_id", flat=True))


def test_the_sixth_tv_page_view_puts_the_lead_in_the_segment(marketer, tv_viewer, events):
    lead = tv_viewer("tv@example.com", 5)
    segment = built(services.create_segment(marketer, name="TV", filter=TV))
    assert _members(segment) == set()

    events(lead, "page_view", url="https://shop.example/tv/qled-65")
    assert DirtyLead.objects.filter(lead_id=lead.pk).exists()
    services.refresh_due()

    assert _members(segment) == {lead.pk}
    segment.refresh_from_db()
    assert segment.member_count == 1
    change = SegmentChange.objects.get(segment=segment)
    assert (change.lead_id, change.entered, change.reason) == (lead.pk, True, "filter")
    assert not DirtyLead.objects.exists()


def test_the_worker_is_woken_after_the_commit(marketer, tv_viewer, events,
                                              django_capture_on_commit_callbacks):
    lead = tv_viewer("tv@example.com", 5)
    segment = built(services.create_segment(marketer, name="TV", filter=TV))

    # The test settings run tasks at once (the immediate backend), as a worker would.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        events(lead, "page_view", url="https://shop.example/tv/qled-65")
        events(lead, "page_view", url="https://shop.example/tv/qled-65")

    assert len(callbacks) == 1  # one wake-up per transaction
    assert _members(segment) == {lead.pk}


def test_a_profile_edit_takes_the_lead_out(marketer, make_lead, admin_user):
    lead = make_lead("fr@example.com", country="FR")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    assert _members(segment) == {lead.pk}

    edit_lead(lead, {"country": "DE"}, actor=admin_user)
    services.refresh_due()

    assert _members(segment) == set()
    change = SegmentChange.objects.filter(segment=segment).latest("id")
    assert (change.entered, change.reason) == (False, "no longer matches")


def test_a_consent_recorded_through_the_api_is_seen_without_an_event(marketer, make_lead,
                                                                     admin_user):
    lead = make_lead("c@example.com")
    segment = built(services.create_segment(marketer, name="Consenting", filter={
        "field": "marketing_consent", "op": "equals", "value": True}))
    assert _members(segment) == set()

    consent_by(admin_user, lead, granted=True, text="Yes, send me news")
    services.refresh_due()

    assert _members(segment) == {lead.pk}


def test_a_new_lead_enters_on_creation(marketer, make_lead):
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    lead = make_lead("fr@example.com", country="FR")
    services.refresh_due()
    assert _members(segment) == {lead.pk}


def test_with_no_active_segment_the_pipeline_queues_nothing(marketer, make_lead, events):
    built(services.create_segment(marketer, name="Off", filter={"all": []}, active=False))
    lead = make_lead("a@example.com")
    events(lead, "page_view", url="/")
    assert not DirtyLead.objects.exists()


def test_only_the_event_types_a_behaviour_segment_reads_are_queued(marketer, make_lead,
                                                                   events):
    built(services.create_segment(marketer, name="Buyers", filter={"purchase": {}}))
    lead = make_lead("a@example.com")
    DirtyLead.objects.all().delete()
    events(lead, "page_view", url="/")
    assert not DirtyLead.objects.exists()
    events(lead, "purchase", value=12.5, product="Pan")
    assert DirtyLead.objects.filter(lead_id=lead.pk).exists()


def test_a_segment_reading_another_follows_it_in_the_same_refresh(marketer, make_lead,
                                                                   admin_user):
    lead = make_lead("fr@example.com", country="FR", title="CEO")
    france = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    bosses = built(services.create_segment(marketer, name="French bosses", filter={
        "all": [{"segment": france.pk}, {"field": "title", "op": "equals", "value": "ceo"}]}))
    assert _members(bosses) == {lead.pk}

    edit_lead(lead, {"country": "BE"}, actor=admin_user)
    services.refresh_due()

    assert _members(france) == set() and _members(bosses) == set()


def _batch_refresh_queries(marketer, n: int, name: str) -> int:
    from leadflow.leads.bulk import bulk_upsert

    bulk_upsert([{"email": f"{name}{i}@example.com"} for i in range(n)])
    DirtyLead.objects.all().delete()
    from leadflow.leads.models import Lead

    ids = list(Lead.objects.filter(email__startswith=name).values_list("pk", flat=True))
    record_events([NewEvent(type="page_view", lead_id=pk, properties={"url": f"/tv/{name}"})
                   for pk in ids for _ in range(2)], via="api")
    with CaptureQueriesContext(connection) as queries:
        changed = services.refresh_due()
    assert changed == n
    return len(queries)


def test_a_refresh_takes_the_same_number_of_queries_for_10_and_1000_leads(marketer):
    built(services.create_segment(marketer, name="TV fans", filter={"event": {
        "type": "page_view", "where": [{"field": "url", "op": "starts_with",
                                        "value": "/tv/"}], "min": 2}}))
    assert _batch_refresh_queries(marketer, 10, "a") == _batch_refresh_queries(
        marketer, 1000, "b")


def test_the_periodic_tick_refreshes_queued_leads(marketer, tv_viewer, events):
    lead = tv_viewer("tv@example.com", 5)
    segment = built(services.create_segment(marketer, name="TV", filter=TV))
    events(lead, "page_view", url="https://shop.example/tv/qled-65")
    periodic.tick()
    assert _members(segment) == {lead.pk}
