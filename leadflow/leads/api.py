# No `from __future__ import annotations` here: with it, ninja cannot resolve
# `Query[LeadFilters]` through @paginate and GET /leads fails with a 500.
from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from leadflow.leads import services
from leadflow.lifecycle import services as lifecycle
from leadflow.scoring import services as scoring
from leadflow.tracking import services as tracking
from leadflow.tracking.models import Event

router = Router(tags=["leads"])


class LeadIn(Schema):
    email: str | None = Field(None, description="Matched case-insensitively; unique.")
    external_id: str | None = Field(None, description="Your system's id; unique.")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    title: str | None = None
    company_name: str | None = None
    country: str | None = Field(None, description="ISO 3166 two-letter code")
    city: str | None = None
    language: str | None = None
    channel: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    do_not_email: bool | None = None
    do_not_call: bool | None = None
    custom: dict[str, Any] | None = None


class LeadOut(Schema):
    id: int
    email: str | None
    external_id: str | None
    first_name: str
    last_name: str
    phone: str
    title: str
    company_name: str
    country: str
    city: str
    channel: str
    source: str
    medium: str
    campaign: str
    stage: str
    score: int
    fit_score: int
    engagement_score: int
    interest_score: int
    owner_id: int | None
    team_id: int | None
    do_not_email: bool
    do_not_call: bool
    marketing_consent: bool
    custom: dict[str, Any]
    first_touch_at: datetime | None
    last_touch_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ScoreLine(Schema):
    points: int
    category: str
    reason: str
    event_id: int | None
    at: datetime


class LeadDetail(LeadOut):
    first_touch: dict[str, Any]
    last_touch: dict[str, Any]
    score_explanation: list[ScoreLine] = []


class EventOut(Schema):
    id: int
    type: str
    properties: dict[str, Any]
    via: str
    occurred_at: datetime
    received_at: datetime


class LeadFilters(Schema):
    q: str = Field("", description="Search in name, email, company, external id")
    stage: str = ""
    owner: str = Field("", description='A user id, or "none" for unassigned')
    source: str = ""
    sort: Literal["-score", "score", "-created_at", "created_at", "name",
                  "-last_touch_at"] = "-score"


class OutcomeIn(Schema):
    outcome: Literal["won", "lost"]
    reason: str = ""


@router.post("", response={200: LeadOut, 201: LeadOut},
             summary="Create a lead, or update the one with the same email or external id")
def upsert_lead(request, payload: LeadIn):
    lead, created = services.upsert_lead(payload.dict(exclude_unset=True), via=Event.Via.API,
                                         actor=request.user)
    lead.refresh_from_db()
    return Status(201 if created else 200, lead)


@router.get("", response=list[LeadOut], summary="List the leads you may see")
@paginate(LimitOffsetPagination)
def list_leads(request, filters: Query[LeadFilters]):
    return services.search_leads(request.user, **filters.dict())


@router.get("/{lead_id}", response=LeadDetail, summary="One lead, with why it scores")
def get_lead(request, lead_id: int):
    lead = services.get_visible_lead(request.user, lead_id)
    explanation = [
        ScoreLine(points=e.points, category=e.category, reason=e.reason, event_id=e.event_id,
                  at=e.created_at) for e in scoring.explain(lead)]
    return LeadDetail.model_validate(lead).model_copy(
        update={"score_explanation": explanation})


@router.get("/{lead_id}/timeline", response=list[EventOut], summary="The lead's events")
@paginate(LimitOffsetPagination)
def lead_timeline(request, lead_id: int):
    return tracking.timeline(services.get_visible_lead(request.user, lead_id))


@router.post("/{lead_id}/outcome", response=LeadOut, summary="Mark the deal won or lost")
def mark_outcome(request, lead_id: int, payload: OutcomeIn):
    lead = services.get_visible_lead(request.user, lead_id)
    lifecycle.mark_outcome(lead, payload.outcome, actor=request.user, reason=payload.reason,
                           via=Event.Via.API)
    lead.refresh_from_db()
    return lead
