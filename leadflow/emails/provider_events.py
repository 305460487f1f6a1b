"""A provider's bounce, complaint and delivery events, through django-anymail's tracking
webhooks (/anymail/<provider>/tracking/), into emails.bounces.

The webhooks are trusted only with ANYMAIL_WEBHOOK_SECRET set (anymail then checks the
basic auth the provider's webhook URL carries); without it anymail would accept anyone's
posts, so their events are ignored here. Sending through anymail, the outbox puts our
message id in the metadata (`leadflow_message_id`); without it an event names the last
message sent to its recipient.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings

from leadflow.accounts.permissions import Actor
from leadflow.emails import bounces
from leadflow.emails.models import Bounce, EmailMessage

log = logging.getLogger(__name__)

METADATA_KEY = "leadflow_message_id"
_TEMPORARY = re.compile(r"(^|\D)4\d\d(\D|$)|\b4\.\d{1,3}\.\d{1,3}\b")
# Provider bounce types that are temporary (Postmark's names; others tell by the status).
_SOFT_TYPES = {"softbounce", "transient", "dnserror"}


def on_tracking(sender, event, esp_name: str, **kwargs) -> None:
    """anymail's `tracking` signal: record bounced, rejected, complained and deferred
    events; note delivered ones."""
    if event.event_type not in ("bounced", "rejected", "complained", "deferred", "delivered"):
        return
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        log.warning("ignored a %s %s event: set ANYMAIL_WEBHOOK_SECRET to trust the "
                    "provider's webhooks", esp_name, event.event_type)
        return
    message = _message(event)
    if event.event_type == "delivered":
        if message is not None:
            bounces.mark_delivered([message.pk])
        return
    address = (message.to_email if message and message.to_email else event.recipient) or ""
    kind, delayed = _kind(event)
    key = bounces.key_of(f"{esp_name}:{event.event_id or event.message_id}:{event.event_type}",
                         address)
    detail = " ".join(str(d) for d in (event.mta_response, event.description) if d)
    status = _STATUS.search(detail)
    bounces.record([bounces.Incoming(
        address=address, kind=kind, key=key, status=status.group(0) if status else "",
        diagnostic=detail, delayed=delayed, message_id=message.pk if message else None)],
        via=Bounce.Via.PROVIDER, actor=Actor.public(f"provider:{esp_name.lower()}"))


_STATUS = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")


def _kind(event) -> tuple[str, bool]:
    """(kind, delayed) of a provider's event."""
    if event.event_type == "complained":
        return Bounce.Kind.COMPLAINT, False
    if event.event_type == "deferred":  # the provider still tries
        return Bounce.Kind.SOFT, True
    esp_type = str((event.esp_event or {}).get("Type", "")).lower() \
        if isinstance(event.esp_event, dict) else ""
    detail = str(event.mta_response or "")
    if esp_type in _SOFT_TYPES or (detail and _TEMPORARY.search(detail.strip()[:20])):
        return Bounce.Kind.SOFT, False
    return Bounce.Kind.HARD, False


def _message(event) -> EmailMessage | None:
    raw = (event.metadata or {}).get(METADATA_KEY)
    if raw is not None and str(raw).isascii() and str(raw).isdigit():
        found = EmailMessage.objects.filter(pk=int(raw)).first()
        if found is not None:
            return found
    recipient = (event.recipient or "").strip().lower()
    if not recipient:
        return None
    return (EmailMessage.objects.filter(lead__email=recipient, to_email=recipient,
                                        sent_at__isnull=False)
            .order_by("-sent_at", "-pk").first())
