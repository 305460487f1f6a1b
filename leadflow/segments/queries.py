"""Reading segments for pages and the API: members, counts and history cut to the
reader's lead scope (a rep sees and counts only their own leads; those who see every
lead get the stored count), a lead's memberships and history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from leadflow.accounts.permissions import lead_scope, scoped
from leadflow.leads.models import Lead
from leadflow.segments.models import Segment, SegmentChange, SegmentMember

if TYPE_CHECKING:
    from leadflow.accounts.models import User


def visible_members(user: User, segment: Segment) -> QuerySet[SegmentMember]:
    """The segment's members `user` may see (a rep: their own leads), newest first."""
    rows = SegmentMember.objects.filter(segment=segment)
    scope = lead_scope(user)
    if scope is not None:
        rows = rows.filter(lead__in=scoped(Lead.objects.all(), user))
    return rows.select_related("lead").order_by("-since", "-lead_id")


def visible_count(user: User, segment: Segment) -> int:
    """The members `user` may see: the stored count for those who see every lead."""
    if lead_scope(user) is None:
        return segment.member_count
    return visible_members(user, segment).count()


def with_counts(user: User) -> QuerySet[Segment]:
    """Every segment; for a user who does not see every lead, each with `visible_count`:
    the members they see (one query)."""
    rows = Segment.objects.select_related("created_by")
    if lead_scope(user) is not None:
        rows = rows.annotate(visible_count=Count("members", filter=Q(
            members__lead__in=scoped(Lead.objects.filter(erased_at__isnull=True), user))))
    return rows


def visible_history(user: User, segment: Segment) -> QuerySet[SegmentChange]:
    rows = SegmentChange.objects.filter(segment=segment)
    if lead_scope(user) is not None:
        rows = rows.filter(lead__in=scoped(Lead.objects.all(), user))
    return rows.select_related("lead").order_by("-at", "-id")


def segments_of(user: User, lead: Lead) -> list[SegmentMember]:
    """The lead's memberships (the caller made sure `user` sees the lead)."""
    return list(SegmentMember.objects.filter(lead=lead).select_related("segment")
                .order_by("segment__name"))


def history_of(lead: Lead, limit: int = 100) -> list[SegmentChange]:
    return list(SegmentChange.objects.filter(lead=lead).select_related("segment")
                .order_by("-at", "-id")[:limit])


def readers_of(segment: Segment) -> list[Segment]:
    return [s for s in Segment.objects.filter(~Q(pk=segment.pk))
            if segment.pk in (s.reads_segments or ())]
