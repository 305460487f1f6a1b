"""A person's segment data joins their erasure (history, memberships, overrides; the
counts move) and their data export; a merge leaves the kept lead in each segment once."""

from __future__ import annotations

import pytest

from leadflow.leads.merge import merge_leads, undo_merge
from leadflow.leads.privacy import erase_lead, export_person
from leadflow.segments import services
from leadflow.segments.models import DirtyLead, SegmentChange, SegmentMember, SegmentOverride
from leadflow.segments.tests.conftest import built

pytestmark = pytest.mark.django_db


def test_erasure_removes_the_persons_memberships_and_history(marketer, make_lead,
                                                             admin_user):
    lead, other = make_lead("fr@example.com", country="FR"), make_lead("o@example.com",
                                                                        country="FR")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    manual = built(services.create_segment(marketer, name="Hand-picked", filter={"any": []}))
    services.include(marketer, manual, [lead.pk])
    assert "segment_changes" in export_person(lead, actor=admin_user)

    erase_lead(lead, actor=admin_user)

    for model in (SegmentMember, SegmentChange, SegmentOverride):
        assert not model.objects.filter(lead_id=lead.pk).exists(), model
    assert not DirtyLead.objects.filter(lead_id=lead.pk).exists()
    segment.refresh_from_db()
    manual.refresh_from_db()
    assert (segment.member_count, manual.member_count) == (1, 0)
    assert set(SegmentMember.objects.values_list("lead_id", flat=True)) == {other.pk}
    built(services.rebuild_segment(marketer, segment))
    assert not SegmentMember.objects.filter(lead_id=lead.pk).exists()


def test_a_merge_keeps_one_membership_and_the_count(marketer, make_lead, admin_user):
    keep = make_lead("keep@example.com", country="FR")
    other = make_lead("other@example.com", country="FR")
    segment = built(services.create_segment(marketer, name="France", filter={
        "field": "country", "op": "equals", "value": "FR"}))
    picked = built(services.create_segment(marketer, name="Picked", filter={"any": []}))
    services.include(marketer, picked, [other.pk])

    audit = merge_leads(keep, other, actor=admin_user)
    services.refresh_due()

    assert list(SegmentMember.objects.filter(segment=segment).values_list(
        "lead_id", flat=True)) == [keep.pk]
    assert list(SegmentMember.objects.filter(segment=picked).values_list(
        "lead_id", flat=True)) == [keep.pk]
    segment.refresh_from_db()
    picked.refresh_from_db()
    assert (segment.member_count, picked.member_count) == (1, 1)

    undo_merge(audit, actor=admin_user)
    services.refresh_due()
    segment.refresh_from_db()
    assert segment.member_count == 2
