from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema

from leadflow.tracking import services

router = Router(tags=["events"])


class EventIn(Schema):
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


class EventBatchIn(Schema):
    events: list[EventIn] = Field(..., max_length=services.MAX_BATCH)


class EventResultOut(Schema):
    index: int
    status: str = Field(..., description="created, duplicate or error")
    event_id: int | None
    message: str


class EventBatchOut(Schema):
    created: int
    duplicates: int
    errors: int
    results: list[EventResultOut]


@router.post("", response=EventBatchOut,
             summary="Record a batch of events (up to 1,000; idempotent by key)")
def post_events(request, payload: EventBatchIn):
    items = [services.IngestItem(**e.dict()) for e in payload.events]
    results = services.ingest_events(request.user, items)
    count = {s: sum(1 for r in results if r.status == s) for s in ("created", "duplicate",
                                                                    "error")}
    return EventBatchOut(created=count["created"], duplicates=count["duplicate"],
                         errors=count["error"],
                         results=[EventResultOut(**r.__dict__) for r in results])
