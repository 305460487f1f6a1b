"""What the apps below segments tell it (connected in SegmentsConfig.ready()): lead
writes that record no event, re-scores, static lists' members, merges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadflow.leads.models import Lead
from leadflow.segments import language, membership
from leadflow.segments.dirty import mark_dirty
from leadflow.segments.models import Segment, SegmentMember, SegmentOverride


def on_fields_changed(sender: object, *, lead_ids: Sequence[int], **_: object) -> None:
    """leads.signals.fields_changed: lead columns written with no event."""
    if Segment.objects.filter(active=True).exists():
        mark_dirty(lead_ids)


def on_scores_rebuilt(sender: object, *, changes: dict[int, Any], **_: object) -> int:
    """scoring.signals.scores_rebuilt: a re-score or decay moved these leads' scores."""
    if changes and Segment.objects.filter(active=True).exists():
        mark_dirty(changes)
    return 0


def on_list_changed(sender: object, *, list_id: int, lead_ids: Sequence[int],
                    **_: object) -> None:
    """lists.signals.members_changed: leads put on or taken off a static list."""
    if any(list_id in language.references(tree, "list") for tree in
           Segment.objects.filter(active=True).values_list("filter", flat=True)):
        mark_dirty(lead_ids)


def on_merging(sender: object, *, keep: Lead, other: Lead, **_: object) -> dict[str, list]:
    """leads.signals.merging: the merged lead's memberships and overrides become the
    kept lead's, except where the kept lead has its own (a lead is in a segment once);
    the kept lead is then re-evaluated (the merge's event queues it)."""
    both = SegmentMember.objects.filter(lead=other, segment__in=SegmentMember.objects.filter(
        lead=keep).values("segment"))
    shared = list(both.values_list("segment_id", flat=True))
    both.delete()
    membership.move_counts(dict.fromkeys(shared, -1))
    SegmentMember.objects.filter(lead=other).update(lead=keep)
    SegmentOverride.objects.filter(lead=other, segment__in=SegmentOverride.objects.filter(
        lead=keep).values("segment")).delete()
    SegmentOverride.objects.filter(lead=other).update(lead=keep)
    return {}


def on_merge_undone(sender: object, *, keep: Lead, restored: Lead, **_: object) -> None:
    """leads.signals.merge_undone: both leads are evaluated again."""
    mark_dirty([keep.pk, restored.pk])
