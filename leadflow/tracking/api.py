from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpResponse
from ninja import Field, Router
from pydantic import BaseModel
from pydantic_core import to_json

from leadflow.core.responses import answers
from leadflow.tracking import services

router = Router(tags=["events"])


# Plain pydantic models, not ninja Schemas: a Schema runs a Python root validator per
# object (for ORM attribute access), which cost more than the whole database work of a
# batch of 1,000 events. Nothing here is read from ORM objects.
class EventIn(BaseModel):
    # Optional here so that an item without a type is reported in its own result instead
    # of rejecting the whole batch.
    type: str | None = Field(None, description="Required: e.g. page_view, newsletter_signup, "
                                               "demo_requested")
    lead_id: int | None = None
    email: str | None = None
    external_id: str | None = None
    visitor_id: str = Field("", description="An anonymous visitor, when no lead is known")
    properties: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = Field(None, description="Defaults to now")
    idempotency_key: str | None = Field(None, description="Replaying a key stores nothing")


class EventBatchIn(BaseModel):
    events: list[EventIn] = Field(..., max_length=services.MAX_BATCH)


class EventResultOut(BaseModel):
    index: int
    status: str = Field(..., description="created, duplicate or error")
    event_id: int | None
    message: str


class EventBatchOut(BaseModel):
    created: int
    duplicates: int
    errors: int
    results: list[EventResultOut]


@router.post("", response=answers(EventBatchOut, 413, 422),
             summary="Record a batch of events (up to 1,000; idempotent by key)")
def post_events(request, payload: EventBatchIn):
    results = services.ingest_events(request.user, payload.events)
    count = {"created": 0, "duplicate": 0, "error": 0}
    for r in results:
        count[r.status] += 1
    # Serialised here in one pass (EventBatchOut's shape, plain values): ninja's response
    # validation, or one pydantic object per result, cost as much as the rest of the
    # request together.
    body = to_json({
        "created": count["created"], "duplicates": count["duplicate"], "errors": count["error"],
        "results": [{"index": r.index, "status": r.status, "event_id": r.event_id,
                     "message": r.message} for r in results]})
    return HttpResponse(body, content_type="application/json")
