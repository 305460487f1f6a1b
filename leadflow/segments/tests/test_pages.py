"""The pages: the segments list and a segment's page (everyone, counting the leads they
see), the builder (managers), and the Segments card of the lead page (why, history)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leadflow.leads.models import Lead
from leadflow.segments import services
from leadflow.segments.models import Segment
from leadflow.segments.tests.conftest import TV, built

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_marketer_builds_a_segment_and_reads_its_page(marketer, tv_viewer):
    lead = tv_viewer("six@example.com", 6)
    client = _client(marketer)
    assert client.get("/segments/new/").status_code == 200

    r = client.post("/segments/new/", {"name": "TV fans", "description": "Story 4",
                                       "active": "on", "filter": json.dumps(TV)})
    segment = Segment.objects.get(name="TV fans")
    assert r.status_code == 302 and r["Location"] == f"/segments/{segment.pk}/"

    # The request only queued the rebuild: the pages count once a worker has built it,
    # and refresh themselves until then.
    page = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "Counting…" in page and "six@example.com" not in page
    assert 'hx-trigger="every 2s"' in page
    index = client.get("/segments/").content.decode()
    assert "counting…" in index and 'hx-trigger="every 2s"' in index
    assert "Counting…" in client.get(f"/segments/{segment.pk}/edit/").content.decode()

    built(segment)
    page = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "1 member you may see" in page and "six@example.com" in page
    assert "Counting…" not in page and "every 2s" not in page
    assert "1 member now" in client.get(f"/segments/{segment.pk}/edit/").content.decode()
    assert "At least 6 × Viewed a page (url contains /tv/)" in page
    index = client.get("/segments/").content.decode()
    assert "TV fans" in index
    assert lead.pk in services.members_among(segment.pk, [lead.pk])


def test_a_bad_filter_stays_on_the_builder_with_the_message(marketer):
    r = _client(marketer).post("/segments/new/", {"name": "Bad", "filter": "{\"all\": 3}"})
    assert r.status_code == 422
    assert "filter.all" in r.content.decode()
    r = _client(marketer).post("/segments/new/", {"name": "Bad", "filter": "{nope"})
    assert r.status_code == 422 and "not valid JSON" in r.content.decode()


def test_a_rep_reads_the_pages_counting_their_leads_but_may_not_build(marketer, make_user,
                                                                      make_lead):
    rita = make_user("rita")
    mine = make_lead("mine@example.com", country="FR")
    make_lead("theirs@example.com", country="FR")
    Lead.objects.filter(pk=mine.pk).update(owner=rita)
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    client = _client(rita)

    page = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "1 member you may see" in page
    assert "mine@example.com" in page and "theirs@example.com" not in page
    assert client.get("/segments/new/").status_code == 403
    assert client.post(f"/segments/{segment.pk}/rebuild").status_code == 403


def test_the_lead_page_says_why_the_lead_is_in_each_segment(marketer, tv_viewer,
                                                           admin_user):
    lead = tv_viewer("six@example.com", 6)
    built(services.create_segment(marketer, name="TV fans", filter=TV))
    page = _client(admin_user).get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="segments"' in page and "TV fans" in page
    assert "At least 6 × Viewed a page" in page and "/tv/oled-55" in page
    assert "Membership history" in page and "segment rebuilt" in page


def test_the_segments_list_takes_a_bounded_number_of_queries(marketer, make_user,
                                                             django_assert_max_num_queries):
    rita = make_user("rita")
    for i in range(5):
        services.create_segment(marketer, name=f"S{i}", filter={"all": []})
        if i % 2:
            built(Segment.objects.get(name=f"S{i}"))
    client = _client(rita)
    with django_assert_max_num_queries(12):  # built or building alike
        assert client.get("/segments/").status_code == 200
