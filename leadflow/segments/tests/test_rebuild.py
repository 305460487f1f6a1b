"""A full rebuild is set-based: the same number of queries for 10 and 1,000 leads; it
adds the leads the filter matches, takes out those it no longer matches, writes their
history, keeps the count and tells the campaign engine (membership_changed). It runs in
a worker (segments.builds), never in the request that asks for it: test_background_rebuild
covers the queue; here the worker's job runs in the test."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.leads.models import Lead
from leadflow.segments import builds, services, signals
from leadflow.segments.models import SegmentChange, SegmentMember
from leadflow.segments.tests.conftest import TV, built

pytestmark = pytest.mark.django_db


@pytest.fixture
def told():
    calls: list[dict] = []

    def receiver(sender, signal, **kwargs):
        calls.append(kwargs)

    signals.membership_changed.connect(receiver, dispatch_uid="test-told")
    yield calls
    signals.membership_changed.disconnect(dispatch_uid="test-told")


def _members(segment) -> set[int]:
    return set(SegmentMember.objects.filter(segment=segment).values_list("lead_id", flat=True))


def test_the_story_4_segment_holds_the_leads_with_more_than_five_tv_pages(
        marketer, tv_viewer, told):
    six, five = tv_viewer("six@example.com", 6), tv_viewer("five@example.com", 5)

    segment = services.create_segment(marketer, name="Viewed more than 5 TV pages",
                                      filter=TV)
    assert _members(segment) == set() and told == []  # not in the request

    built(segment)

    assert _members(segment) == {six.pk}
    assert segment.member_count == 1 and segment.last_rebuilt_at is not None
    change = SegmentChange.objects.get(segment=segment)
    assert (change.lead_id, change.entered, change.reason) == (six.pk, True, "rebuild")
    assert told == [{"segment_id": segment.pk, "entered": [six.pk], "left": []}]
    assert five.pk not in _members(segment)


def test_a_rebuild_after_a_filter_change_takes_out_who_no_longer_matches(marketer, make_lead,
                                                                         told):
    fr, de = make_lead("fr@example.com", country="FR"), make_lead("de@example.com",
                                                                   country="DE")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "fr"}))
    assert _members(segment) == {fr.pk}

    services.update_segment(marketer, segment, filter={"field": "country", "op": "one_of",
                                                       "value": ["DE"]})
    assert _members(segment) == {fr.pk}  # until the worker has rebuilt it
    built(segment)

    assert _members(segment) == {de.pk}
    assert segment.member_count == 1
    history = list(SegmentChange.objects.filter(segment=segment).order_by("id")
                   .values_list("lead_id", "entered"))
    assert history == [(fr.pk, True), (fr.pk, False), (de.pk, True)]
    assert told[-1] == {"segment_id": segment.pk, "entered": [de.pk], "left": [fr.pk]}


def test_a_rebuild_that_changes_nothing_writes_nothing(marketer, make_lead, told):
    make_lead("fr@example.com", country="FR")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    told.clear()

    assert builds.build(segment) == ([], [])
    assert told == [] and SegmentChange.objects.count() == 1


def test_erased_leads_are_never_members(marketer, make_lead, admin_user):
    from leadflow.leads.privacy import erase_lead

    lead = make_lead("fr@example.com", country="FR")
    erase_lead(lead, actor=admin_user)
    segment = built(services.create_segment(marketer, name="All", filter={"all": []}))
    assert _members(segment) == set()


def _rebuild_queries(marketer, n: int, name: str) -> int:
    from leadflow.leads.bulk import bulk_upsert

    bulk_upsert([{"email": f"{name}{i}@example.com", "country": name}
                 for i in range(n)])
    segment = services.create_segment(marketer, name=name, filter={
        "field": "country", "op": "equals", "value": name}, active=False)
    with CaptureQueriesContext(connection) as queries:
        assert builds.run_due() == 1  # the worker: claim, rebuild, done
    segment.refresh_from_db()
    assert (segment.member_count, segment.build_state) == (n, "built")
    return len(queries)


def test_a_rebuild_takes_the_same_number_of_queries_for_10_and_1000_leads(marketer):
    assert _rebuild_queries(marketer, 10, "FR") == _rebuild_queries(marketer, 1000, "DE")
    assert Lead.objects.count() == 1010
