"""Erasure of a person's memberships (registered with leads.privacy.register_store in
SegmentsConfig.ready(): leads stands below segments). Their history rows are a Lead
relation, deleted with the person's other rows; members and overrides are not (see
models.SegmentMember), so that the counts move with them here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count

from leadflow.segments.membership import move_counts
from leadflow.segments.models import DirtyLead, Segment, SegmentMember, SegmentOverride

if TYPE_CHECKING:
    from leadflow.leads.privacy import Person


def forget_memberships(people: list[Person]) -> None:
    ids = sorted({p.lead_id for p in people})
    if not ids or not Segment.objects.exists():
        return  # no segment: no member, override nor queued lead either
    rows = SegmentMember.objects.filter(lead_id__among=ids)
    counts = dict(rows.order_by().values_list("segment_id").annotate(n=Count("*")))
    rows.delete()
    move_counts({pk: -n for pk, n in counts.items()})
    SegmentOverride.objects.filter(lead_id__among=ids).delete()
    DirtyLead.objects.filter(lead_id__among=ids).delete()
