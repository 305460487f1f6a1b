"""`GET /api/v1/notifications`, `POST /api/v1/notifications/{id}/read`: the caller's own."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from leadflow.core.responses import answers
from leadflow.notifications import services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    lead_id: int | None
    payload: dict
    created_at: datetime
    read_at: datetime | None


@router.get("", response=answers(list[NotificationOut], 422), summary="My notifications")
def list_notifications(request, unread: bool = False):
    notes = services.for_user(request.user)
    if unread:
        notes = notes.filter(read_at__isnull=True)
    return list(notes[:200])


@router.post("/{notification_id}/read", response=answers(NotificationOut, 404, 422),
             summary="Mark a notification read")
def read(request, notification_id: int):
    return services.mark_read(request.user, notification_id)
