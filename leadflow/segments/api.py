"""`/api/v1/segments` (dynamic segments, their members and history, the builder's preview)
and `/api/v1/leads/{id}/segments` (a lead's segments, why, and its history). Members,
counts and history are cut to the caller's lead scope: a sales rep sees and counts only
their own leads; the stored count is shown to those who see every lead. Creating, a new
filter and "rebuild" answer at once: a worker builds the segment (`build_state`)."""

# No `from __future__ import annotations`: ninja reads the annotations at import time.
from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from leadflow.accounts.permissions import VIEW, may
from leadflow.core.errors import Forbidden
from leadflow.core.params import Pagination
from leadflow.core.responses import answers
from leadflow.leads.labels import reason_label
from leadflow.leads.models import Lead
from leadflow.leads.services import get_visible_lead
from leadflow.segments import queries, services, wording
from leadflow.segments.models import Segment, SegmentChange, SegmentMember

router = Router(tags=["segments"])
leads_router = Router(tags=["segments"])


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    filter: dict[str, Any] = Field(description="The filter tree (docs/segments.md)")
    active: bool
    time_dependent: bool = Field(description="Membership can change with time alone")
    members: int | None = Field(description="Members you may see (your leads, for a sales "
                                            "rep); null until the segment is built")
    build_state: Literal["building", "built", "failed"] = Field(
        description="building: a worker is to rebuild it (after its creation, a new filter "
                    "or a rebuild asked for); built; failed: its last rebuild failed "
                    "(build_error)")
    building_since: datetime | None = Field(
        description="While building: when the rebuild was asked for")
    build_error: str = Field(description="Why the last attempt at a rebuild failed (empty "
                                         "when it did not)")
    last_rebuilt_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_members(row: Segment) -> int | None:
        if row.build_state != Segment.BuildState.BUILT:
            return None
        visible = getattr(row, "visible_count", None)
        return row.member_count if visible is None else visible

    @staticmethod
    def resolve_building_since(row: Segment) -> datetime | None:
        building = row.build_state == Segment.BuildState.BUILDING
        return row.build_requested_at if building else None

    @staticmethod
    def resolve_created_by(row: Segment) -> str | None:
        return row.created_by.get_username() if row.created_by else None


class SegmentIn(Schema):
    name: str = Field(max_length=120)
    description: str = Field("", max_length=5000)
    filter: dict[str, Any]
    active: bool = True


class SegmentPatch(Schema):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=5000)
    filter: dict[str, Any] | None = None
    active: bool | None = None


class SegmentMemberOut(Schema):
    lead_id: int
    email: str | None
    name: str
    since: datetime
    manual: bool = Field(description="Kept in by hand (an include)")

    @staticmethod
    def resolve_email(row: SegmentMember) -> str | None:
        return row.lead.email

    @staticmethod
    def resolve_name(row: SegmentMember) -> str:
        return f"{row.lead.first_name} {row.lead.last_name}".strip()


class ChangeOut(Schema):
    segment_id: int
    lead_id: int
    entered: bool = Field(description="true: entered; false: left")
    at: datetime
    reason: str = Field(description="As stored: filter, no longer matches, rebuild, time "
                                    "window expired, added by <who>, removed by <who>")
    reason_text: str = Field(description="The reason in the caller's language")

    @staticmethod
    def resolve_reason_text(row: SegmentChange) -> str:
        return reason_label(row.reason)


class LeadIdsIn(Schema):
    lead_ids: list[int] = Field(max_length=services.MAX_ITEMS)
    reason: str = Field("", max_length=150)


class ChangedOut(Schema):
    changed: list[int] = Field(description="The leads that entered (include) or left "
                                           "(exclude) now; leads you may not see are left out")


class FilterIn(Schema):
    filter: dict[str, Any]


class LeadBrief(Schema):
    id: int
    name: str
    email: str | None
    score: int
    stage: str

    @staticmethod
    def resolve_name(row: Lead) -> str:
        return row.display_name


class SegmentPreviewOut(Schema):
    count: int = Field(description="Leads the filter matches now (all leads)")
    sample: list[LeadBrief] = Field(description="The highest scored of them")


class LeadSegmentOut(Schema):
    segment_id: int
    name: str
    since: datetime | None
    override: str = Field(description="include, exclude, or empty")
    matches: bool = Field(description="Whether the filter holds now")
    why: dict[str, Any] = Field(description="Each condition: kind, text, holds, children, "
                                            "and the events satisfying a behaviour condition")


class LeadSegmentsOut(Schema):
    segments: list[LeadSegmentOut]
    history: list[ChangeOut]


def _viewer(request) -> Any:
    if not may(request.user, VIEW, "segments"):
        raise Forbidden(_("You may not see segments."))
    return request.user


def _counted(user, segment_id: int) -> Segment:
    services.get_segment(segment_id)  # 404 first, with its own message
    return queries.with_counts(user).get(pk=segment_id)


@router.get("", response=answers(list[SegmentOut], 422), summary="Segments")
@paginate(Pagination)
def list_segments(request):
    return queries.with_counts(_viewer(request)).order_by("name")


@router.post("", response=answers({201: SegmentOut}, 409, 413, 422),
             summary="Create a segment (a worker computes its members: build_state)")
def create_segment(request, payload: SegmentIn):
    created = services.create_segment(request.user, name=payload.name,
                                      description=payload.description,
                                      filter=payload.filter, active=payload.active)
    return Status(201, _counted(request.user, created.pk))


@router.post("/preview", response=answers(SegmentPreviewOut, 413, 422),
             summary="How many leads a filter matches now, and a sample (the builder)")
def preview(request, payload: FilterIn):
    found = services.preview(request.user, payload.filter)
    return {"count": found.count, "sample": found.sample}


@router.get("/{segment_id}", response=answers(SegmentOut, 404, 422), summary="A segment")
def get_segment(request, segment_id: int):
    return _counted(_viewer(request), segment_id)


@router.patch("/{segment_id}", response=answers(SegmentOut, 404, 409, 413, 422),
              summary="Change a segment (a new filter queues its rebuild)")
def update_segment(request, segment_id: int, payload: SegmentPatch):
    segment = services.get_segment(segment_id)
    services.update_segment(request.user, segment, **payload.dict(exclude_unset=True))
    return _counted(request.user, segment_id)


@router.delete("/{segment_id}", response=answers({204: None}, 404, 409, 422),
               summary="Delete a segment (its members and history, never the leads)")
def delete_segment(request, segment_id: int):
    services.delete_segment(request.user, services.get_segment(segment_id))
    return Status(204, None)


@router.post("/{segment_id}/rebuild", response=answers({202: SegmentOut}, 404, 422),
             summary="Queue the recomputation of the members from the filter and the "
                     "overrides (a worker does it: build_state)")
def rebuild_segment(request, segment_id: int):
    services.rebuild_segment(request.user, services.get_segment(segment_id))
    return Status(202, _counted(request.user, segment_id))


@router.get("/{segment_id}/members", response=answers(list[SegmentMemberOut], 404, 422),
            summary="The members you may see, newest first")
@paginate(Pagination)
def list_members(request, segment_id: int):
    return queries.visible_members(_viewer(request), services.get_segment(segment_id))


@router.get("/{segment_id}/history", response=answers(list[ChangeOut], 404, 422),
            summary="Who entered and left, when and why (the leads you may see)")
@paginate(Pagination)
def list_history(request, segment_id: int):
    return queries.visible_history(_viewer(request), services.get_segment(segment_id))


@router.post("/{segment_id}/include", response=answers(ChangedOut, 404, 413, 422),
             summary="Keep leads in the segment whatever its filter says")
def include(request, segment_id: int, payload: LeadIdsIn):
    segment = services.get_segment(segment_id)
    return {"changed": services.include(request.user, segment, payload.lead_ids,
                                        payload.reason)}


@router.post("/{segment_id}/exclude", response=answers(ChangedOut, 404, 413, 422),
             summary="Keep leads out of the segment whatever its filter says")
def exclude(request, segment_id: int, payload: LeadIdsIn):
    segment = services.get_segment(segment_id)
    return {"changed": services.exclude(request.user, segment, payload.lead_ids,
                                        payload.reason)}


@leads_router.get("/{lead_id}/segments", response=answers(LeadSegmentsOut, 404, 422),
                  summary="The lead's segments, why it is in each, and its history")
def lead_segments(request, lead_id: int):
    lead = get_visible_lead(_viewer(request), lead_id)
    explanations = services.explain_lead(request.user, lead)
    names = wording.names_for([e.segment.filter for e in explanations])
    return {"segments": [{"segment_id": e.segment.pk, "name": e.segment.name,
                          "since": e.since, "override": e.override, "matches": e.matches,
                          "why": wording.explained(e.conditions, names)}
                         for e in explanations],
            "history": queries.history_of(lead)}
