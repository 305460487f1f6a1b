"""Why is this lead in this segment: each condition, whether it holds now, and for a
behaviour condition the events that satisfy it; and the lead's membership history."""

from __future__ import annotations

import pytest

from leadflow.segments import queries, services
from leadflow.segments.tests.conftest import TV, built

pytestmark = pytest.mark.django_db


def test_the_explanation_names_each_condition_and_the_events_behind_it(marketer, tv_viewer):
    lead = tv_viewer("tv@example.com", 7)
    segment = built(services.create_segment(marketer, name="TV fans in France", filter={"all": [
        {"event": {"type": "page_view", "where": [
            {"field": "url", "op": "contains", "value": "/tv/"}], "min": 6}},
        {"not": {"field": "country", "op": "equals", "value": "DE"}},
    ]}))

    why = services.explain(segment, lead)

    assert why.member and why.matches and why.override == "" and why.since is not None
    tv, not_de = why.conditions.children
    assert tv.holds and tv.event_count == 7 and len(tv.events) == 7
    assert all("/tv/" in e.properties["url"] for e in tv.events)
    assert not_de.kind == "not" and not_de.holds and not not_de.children[0].holds


def test_a_lead_kept_in_by_hand_says_so(marketer, make_lead):
    lead = make_lead("de@example.com", country="DE")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    services.include(marketer, segment, [lead.pk])

    why = services.explain(segment, lead)
    assert why.member and not why.matches and why.override == "include"


def test_the_history_says_when_and_why(marketer, make_lead, admin_user):
    from leadflow.leads.services import edit_lead

    lead = make_lead("fr@example.com", country="FR")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    edit_lead(lead, {"country": "DE"}, actor=admin_user)
    services.refresh_due()

    history = queries.history_of(lead)
    assert [(c.segment_id, c.entered, c.reason) for c in history] == [
        (segment.pk, False, "no longer matches"), (segment.pk, True, "rebuild")]
    assert services.explain_lead(admin_user, lead) == []


def test_the_lead_card_reads_the_same_few_queries_for_1_or_5_segments(
        marketer, tv_viewer, django_assert_max_num_queries):
    lead = tv_viewer("tv@example.com", 6)
    built(services.create_segment(marketer, name="S0", filter=TV))
    with django_assert_max_num_queries(8) as one:
        assert len(services.explain_lead(marketer, lead)) == 1
    for i in range(1, 5):
        built(services.create_segment(marketer, name=f"S{i}", filter={"all": [
            TV, {"field": "country", "op": "exists", "value": False}]}))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(services.explain_lead(marketer, lead)) == 5
