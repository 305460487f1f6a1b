"""Manual include and exclude, by a person or a campaign action (Leadflow itself): the
lead is in (or out) at once, whatever the filter, and stays so through rebuilds and
refreshes until the override is cleared."""

from __future__ import annotations

import pytest

from leadflow.accounts.permissions import Actor
from leadflow.core.errors import Forbidden
from leadflow.leads.services import edit_lead
from leadflow.segments import services
from leadflow.segments.models import SegmentChange, SegmentMember
from leadflow.segments.tests.conftest import built

pytestmark = pytest.mark.django_db


def _members(segment) -> dict[int, bool]:
    return dict(SegmentMember.objects.filter(segment=segment).values_list("lead_id", "manual"))


@pytest.fixture
def france(marketer, make_lead):
    fr, de = make_lead("fr@example.com", country="FR"), make_lead("de@example.com",
                                                                   country="DE")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    return segment, fr, de


def test_an_included_lead_is_in_at_once_and_survives_a_rebuild(marketer, france):
    segment, fr, de = france
    assert services.include(marketer, segment, [de.pk]) == [de.pk]
    assert _members(segment) == {fr.pk: False, de.pk: True}

    built(services.rebuild_segment(marketer, segment))
    assert _members(segment) == {fr.pk: False, de.pk: True}
    segment.refresh_from_db()
    assert segment.member_count == 2
    change = SegmentChange.objects.filter(lead=de).get()
    assert change.reason == "added by mia"


def test_an_excluded_lead_stays_out_whatever_it_does(marketer, admin_user, france):
    segment, fr, de = france
    assert services.exclude(marketer, segment, [fr.pk], reason="asked us") == [fr.pk]
    assert _members(segment) == {}
    assert SegmentChange.objects.filter(lead=fr).latest("id").reason == \
        "removed by mia: asked us"

    built(services.rebuild_segment(marketer, segment))
    edit_lead(fr, {"city": "Lyon"}, actor=admin_user)
    services.refresh_due()
    assert _members(segment) == {}


def test_a_campaign_includes_as_leadflow_itself(france):
    segment, _fr, de = france
    services.include(Actor.system(), segment, [de.pk], reason="campaign Spring, step 2")
    assert de.pk in _members(segment)
    assert SegmentChange.objects.filter(lead=de).get().reason == \
        "added by Leadflow: campaign Spring, step 2"


def test_an_included_lead_stays_in_when_a_refresh_would_take_it_out(marketer, admin_user,
                                                                    france):
    segment, fr, _de = france
    services.include(marketer, segment, [fr.pk])
    edit_lead(fr, {"country": "DE"}, actor=admin_user)
    services.refresh_due()
    assert _members(segment) == {fr.pk: True}


def test_clearing_an_override_lets_the_filter_decide_again(marketer, france):
    segment, fr, de = france
    services.include(marketer, segment, [de.pk])
    services.exclude(marketer, segment, [fr.pk])

    assert services.clear_overrides(marketer, segment, [fr.pk, de.pk]) == 2
    assert _members(segment) == {fr.pk: False}


def test_a_rep_may_not_include_nor_a_public_channel(make_user, france):
    segment, fr, _de = france
    with pytest.raises(Forbidden):
        services.include(make_user("rita"), segment, [fr.pk])
    with pytest.raises(Forbidden):
        services.include(Actor.public("form:x"), segment, [fr.pk])


def test_include_is_set_based(marketer, france, django_assert_max_num_queries):
    from leadflow.leads.bulk import bulk_upsert
    from leadflow.leads.models import Lead

    segment, _fr, _de = france
    bulk_upsert([{"email": f"p{i}@example.com"} for i in range(500)])
    ids = list(Lead.objects.filter(email__startswith="p").values_list("pk", flat=True))
    with django_assert_max_num_queries(12):
        assert len(services.include(marketer, segment, ids)) == 500
    segment.refresh_from_db()
    assert segment.member_count == 501
