# No `from __future__ import annotations` here: with it, ninja cannot resolve
# `Query[LeadFilters]` through @paginate and GET /leads fails with a 500.
from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from leadflow.core.params import Pagination
from leadflow.core.responses import CSV_OK, answers
from leadflow.leads import dedupe, exports, merge, privacy, retention, services
from leadflow.leads.models import LeadMerge
from leadflow.tracking import services as tracking
from leadflow.tracking.models import Event

router = Router(tags=["leads"])
SCORE_LINES = 50


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
    budget: bool | None = Field(None, description="BANT: has a budget (null: unknown)")
    authority: bool | None = Field(None, description="BANT: can decide (null: unknown)")
    need: bool | None = Field(None, description="BANT: has the need (null: unknown)")
    timing: Literal["within_12_months", "later", ""] | None = Field(
        None, description='BANT: purchase "within_12_months" or "later"; "" is unknown')
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
    budget: bool | None
    authority: bool | None
    need: bool | None
    timing: str
    bant_known: int = Field(description="How many of budget, authority, need, timing are "
                                        "known (0 to 4)")
    meets_bant: bool = Field(description="All four known and positive: a short-term lead "
                                         "for sales; else a lead to nurture")
    custom: dict[str, Any]
    quality_flags: list[str] = Field(description="Data quality problems (flag codes)")
    contact_data_incorrect: bool
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
    owner: str = Field("", description='A user id, or "none" for unassigned',
                       json_schema_extra={"pattern": "^(none|[0-9]{1,19})?$"})
    source: str = ""
    quality: str = Field("", description='"problems", "ok" or a flag code')
    sort: Literal["-score", "score", "-created_at", "created_at", "name",
                  "-last_touch_at"] = "-score"


@router.post("", response=answers({200: LeadOut, 201: LeadOut}, 409, 413, 422),
             summary="Create a lead, or update the one with the same email or external id")
def upsert_lead(request, payload: LeadIn):
    lead, created = services.upsert_lead(payload.dict(exclude_unset=True), via=Event.Via.API,
                                         actor=request.user)
    lead.refresh_from_db()
    return Status(201 if created else 200, lead)


@router.get("", response=answers(list[LeadOut], 422),
            summary="List the leads you may see")
@paginate(Pagination)
def list_leads(request, filters: Query[LeadFilters]):
    return services.search_leads(request.user, **filters.dict())


MAX_BULK = 1000


class BulkIn(Schema):
    leads: list[dict[str, Any]] = Field(..., description="Up to 1,000 leads shaped like the "
                                        "body of POST /leads; each is checked on its own")


class BulkItemOut(Schema):
    index: int
    status: Literal["created", "updated", "unchanged", "error", "conflict"]
    id: int | None = None
    message: str = ""
    field: str | None = None


class BulkOut(Schema):
    created: int
    updated: int
    unchanged: int
    errors: int
    conflicts: int = Field(description="Leads handled by another rep (nothing changed; "
                           "their owner was told), or identifiers naming two leads")
    results: list[BulkItemOut]


@router.post("/bulk", response=answers(BulkOut, 413, 422),
             summary="Create or update up to 1,000 leads; one result per lead, in order")
def bulk_upsert(request, payload: BulkIn):
    from pydantic import ValidationError as ItemError

    from leadflow.core.errors import InvalidInput
    from leadflow.leads.bulk import bulk_summary, bulk_upsert

    if len(payload.leads) > MAX_BULK:
        raise InvalidInput(_("At most %(limit)s leads per request (got %(count)s).")
                           % {"limit": MAX_BULK, "count": len(payload.leads)}, field="leads")
    items: list[Any] = []
    for item in payload.leads:  # one malformed item must not fail the others
        try:
            items.append(LeadIn.model_validate(item).dict(exclude_unset=True))
        except ItemError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or None
            items.append(InvalidInput(_("%(name)s: %(message)s")
                                      % {"name": name, "message": first["msg"]}, field=name))
    return bulk_summary(bulk_upsert(items, via=Event.Via.API, actor=request.user))


class DuplicateOut(Schema):
    id: int
    lead_a_id: int
    lead_b_id: int
    reason: str
    score: int
    status: str
    created_at: datetime


class MergeIn(Schema):
    keep: int = Field(description="The id of the lead to keep: either of the pair")


class MergeOut(Schema):
    id: int
    kept_id: int
    merged_lead_id: int
    merged_at: datetime
    sources: dict[str, str]
    undone_at: datetime | None


class ErasureOut(Schema):
    id: int
    lead_id: int
    erased_at: datetime


@router.get("/export.csv", response=answers(None, 422), openapi_extra=CSV_OK,
            summary="The leads you may see, as CSV (same filters as the list)")
def export_csv(request, filters: Query[LeadFilters]):
    return exports.csv_response(request.user, filters.dict())


@router.get("/duplicates", response=answers(list[DuplicateOut], 422),
            summary="Open likely-duplicate pairs among the leads you may see")
@paginate(Pagination)
def list_duplicates(request):
    return dedupe.open_suggestions(request.user)


def _suggestion(request, suggestion_id: int):
    from leadflow.core.errors import NotFound

    found = (dedupe.open_suggestions(request.user).filter(pk=suggestion_id).first()
             if services.valid_id(suggestion_id) else None)
    if found is None:
        raise NotFound(_("No open duplicate suggestion #%(id)s (or you may not see both leads).")
                       % {"id": suggestion_id})
    return found


@router.post("/duplicates/{suggestion_id}/merge", response=answers(MergeOut, 404, 409, 413, 422),
             summary="Merge a suggested pair, keeping the lead given in `keep`")
def merge_duplicates(request, suggestion_id: int, payload: MergeIn):
    from leadflow.core.errors import InvalidInput

    suggestion = _suggestion(request, suggestion_id)
    pair = {suggestion.lead_a_id: suggestion.lead_a, suggestion.lead_b_id: suggestion.lead_b}
    if payload.keep not in pair:
        raise InvalidInput(_("keep must be the id of one of the two leads."), field="keep")
    other = next(lead for pk, lead in pair.items() if pk != payload.keep)
    return merge.merge_leads(pair[payload.keep], other, actor=request.user)


@router.post("/duplicates/{suggestion_id}/dismiss", response=answers(DuplicateOut, 404, 422),
             summary="Mark a suggested pair as not duplicates")
def dismiss_duplicates(request, suggestion_id: int):
    return dedupe.dismiss(_suggestion(request, suggestion_id), actor=request.user)


@router.post("/merges/{merge_id}/undo", response=answers(LeadOut, 404, 409, 422),
             summary="Undo a merge: the merged lead comes back with its own history")
def undo_merge(request, merge_id: int):
    from leadflow.core.errors import NotFound

    audit = LeadMerge.objects.filter(pk=merge_id).first() if services.valid_id(
        merge_id) else None
    if audit is None:
        raise NotFound(_("No merge #%(id)s.") % {"id": merge_id})
    services.get_visible_lead(request.user, audit.kept_id)
    return merge.undo_merge(audit, actor=request.user)


class DueLeadOut(Schema):
    id: int
    name: str = Field(alias="display_name")
    email: str | None
    stage: str
    last_activity: datetime


class RetentionOut(Schema):
    days: int
    mode: str
    cutoff: datetime
    count: int
    leads: list[DueLeadOut]


class RetentionEraseIn(Schema):
    cutoff: datetime = Field(description="The cutoff of the list confirmed (GET's cutoff)")


class RetentionErasedOut(Schema):
    erased: int


@router.get("/retention", response=answers(RetentionOut, 422),
            summary="The retention policy and the leads due for erasure (admins only)")
def list_retention(request, limit: int = Query(100, ge=1, le=1000),
                   offset: int = Query(0, ge=0, le=10**9)):
    due = retention.list_due(request.user, limit=limit, offset=offset)
    return {"days": due.policy.days, "mode": due.policy.mode, "cutoff": due.policy.cutoff,
            "count": due.count, "leads": due.leads}


@router.post("/retention/erase", response=answers(RetentionErasedOut, 409, 413, 422),
             summary="Erase the leads that were due at the cutoff listed (admins only)")
def erase_retention(request, payload: RetentionEraseIn):
    return {"erased": retention.erase_due(request.user, cutoff=payload.cutoff)}


@router.get("/{lead_id}/export", response=answers(dict[str, Any], 404, 422),
            summary="Everything held on this person (access request), as JSON")
def export_person(request, lead_id: int):
    return privacy.export_person(services.get_visible_lead(request.user, lead_id),
                                 actor=request.user)


@router.post("/{lead_id}/erase", response=answers(ErasureOut, 404, 422),
             summary="Erase this person (admin and marketing only)")
def erase_person(request, lead_id: int):
    return privacy.erase_lead(services.get_visible_lead(request.user, lead_id),
                              actor=request.user)


class ConsentIn(Schema):
    granted: bool = Field(description="true: the person consented; false: withdrew")
    text: str = Field("", max_length=5000,
                      description="What the person agreed to (required for a consent)")
    text_version: str = Field("", max_length=40)
    page_url: str = Field("", max_length=500, description="Where it was given")
    ip: str | None = Field(None, description="The person's IP address when they gave it")
    purpose: Literal["marketing_email"] = "marketing_email"


class ConsentOut(Schema):
    id: int
    purpose: str
    action: str
    method: str
    text_version: str
    recorded_at: datetime
    marketing_consent: bool = Field(description="The lead's consent to marketing now")


@router.post("/{lead_id}/consents", response=answers({201: ConsentOut}, 404, 413, 422),
             summary="Record a consent given or withdrawn elsewhere, with its proof")
def record_consent(request, lead_id: int, payload: ConsentIn):
    lead = services.get_visible_lead(request.user, lead_id)
    consent = services.consent_by(request.user, lead, **payload.dict())
    return Status(201, ConsentOut(id=consent.pk, purpose=consent.purpose,
                                  action=consent.action, method=consent.method,
                                  text_version=consent.text_version,
                                  recorded_at=consent.recorded_at,
                                  marketing_consent=lead.marketing_consent))


@router.get("/{lead_id}", response=answers(LeadDetail, 404, 422),
            summary="One lead, with why it scores")
def get_lead(request, lead_id: int):
    lead = services.get_visible_lead(request.user, lead_id)
    explanation = [
        # Dated when the points were earned (the event's time, or the decay's); the full
        # explanation, per score group, is GET /leads/{id}/score (scoring.api).
        ScoreLine(points=e.points, category=e.category, reason=e.reason, event_id=e.event_id,
                  at=e.occurred_at)
        # Through the relation scoring declares (it stands above leads).
        for e in lead.score_entries.order_by("-occurred_at", "-id")[:SCORE_LINES]]
    return LeadDetail.model_validate(lead).model_copy(
        update={"score_explanation": explanation})


class LeadEdit(Schema):
    """The fields to change; those left out stay as they are, an empty text clears one."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    company_name: str | None = None
    country: str | None = Field(None, description="ISO 3166 two-letter code, or a name")
    city: str | None = None
    budget: bool | None = Field(None, description="BANT: has a budget (null: unknown)")
    authority: bool | None = Field(None, description="BANT: can decide (null: unknown)")
    need: bool | None = Field(None, description="BANT: has the need (null: unknown)")
    timing: Literal["within_12_months", "later", ""] | None = Field(
        None, description='BANT: purchase "within_12_months" or "later"; "" is unknown')
    custom: dict[str, Any] | None = Field(
        None, description="Custom field values by key; null clears one")


@router.patch("/{lead_id}", response=answers(LeadOut, 404, 409, 413, 422),
              summary="Edit a lead's profile (recorded on its timeline)")
def edit_lead(request, lead_id: int, payload: LeadEdit):
    lead = services.get_visible_lead(request.user, lead_id)
    services.edit_lead(lead, payload.dict(exclude_unset=True), actor=request.user,
                       via=Event.Via.API)
    lead.refresh_from_db()
    return lead


@router.get("/{lead_id}/timeline", response=answers(list[EventOut], 404, 422),
            summary="The lead's events")
@paginate(Pagination)
def lead_timeline(request, lead_id: int):
    return tracking.timeline(services.get_visible_lead(request.user, lead_id))
