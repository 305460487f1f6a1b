"""The event pipeline's entrance: every event (API, form, tracking, email, UI, import)
is stored here, once, and handed to the consumers (leadflow.core.pipeline)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from psycopg import errors as psycopg_errors
from pydantic_core import PydanticSerializationError, to_json

from leadflow.accounts.permissions import scoped
from leadflow.core import clock, pipeline
from leadflow.core.addresses import normalise_email
from leadflow.core.errors import InvalidInput, contains_nul
from leadflow.core.params import utc, valid_id
from leadflow.core.sqlarrays import builder, bulk_insert
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User
    from leadflow.leads.models import Lead

MAX_PROPERTIES_BYTES = 16_000
MAX_KEY = 120  # Event.idempotency_key's length


@dataclass
class NewEvent:
    type: str
    lead_id: int | None = None
    visitor_id: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime | None = None
    idempotency_key: str | None = None
    properties_json: str = ""  # set by _validate


def record_event(type: str, *, lead: Lead | None = None, properties: dict | None = None,
                 via: str = Event.Via.SYSTEM, actor: User | None = None,
                 occurred_at: datetime | None = None, idempotency_key: str | None = None,
                 visitor_id: str = "") -> tuple[Event, bool]:
    """Store one event and run the pipeline on it. Returns (event, created).

    Replaying an idempotency key returns the stored event and changes nothing.
    """
    item = NewEvent(type=type, lead_id=lead.pk if lead else None, visitor_id=visitor_id,
                    properties=properties or {}, occurred_at=occurred_at,
                    idempotency_key=idempotency_key)
    return record_events([item], via=via, actor=actor)[0]


def record_events(items: Sequence[NewEvent], *, via: str = Event.Via.SYSTEM,
                  actor: User | None = None,
                  new_leads: Sequence[Lead] = ()) -> list[tuple[Event, bool]]:
    """Store a batch of events (skipping idempotency keys already stored) and dispatch the
    new ones to scoring, lifecycle and campaigns. Results are in input order.

    `new_leads` are leads created with reserved ids (sqlarrays.reserve_ids) and not
    written yet: the pipeline writes them, scored, before lifecycle and campaigns run.

    Preconditions: each item names a lead id that exists (or is one of `new_leads`), or
    a visitor id, or neither (a system-wide event); type is a non-empty name.
    """
    for i, item in enumerate(items):
        _validate(item, i)
    return _store(items, via=via, actor=actor, new_leads=new_leads)


@transaction.atomic
def _store(items: Sequence[NewEvent], *, via: str, actor: User | None,
           new_leads: Sequence[Lead] = ()) -> list[tuple[Event, bool]]:
    """record_events without the validation (the caller validated every item)."""
    keys = [i.idempotency_key for i in items if i.idempotency_key]
    existing = ({e.idempotency_key: e for e in Event.objects.filter(
        idempotency_key__among=keys)}
                if keys else {})
    now = clock.now()
    actor_id = actor.pk if actor is not None else None
    results: list[tuple[Event, bool] | None] = [None] * len(items)
    fresh: list[Event] = []
    texts: list[str] = []  # their properties as JSON
    seen: dict[str, Event] = {}
    for idx, item in enumerate(items):
        key = item.idempotency_key
        if key and key in existing:
            results[idx] = (existing[key], False)
            continue
        if key and key in seen:  # the same key twice in one batch
            results[idx] = (seen[key], False)
            continue
        # Positional, in EVENT_FIELDS order (sqlarrays.builder says why).
        event = _new_event(None, item.lead_id, item.visitor_id, item.type, item.properties, via,
                      actor_id, item.occurred_at or now, now, key or None)
        fresh.append(event)
        texts.append(item.properties_json)
        results[idx] = (event, True)
        if key:
            seen[key] = event
    if fresh:
        try:
            with transaction.atomic():
                bulk_insert(Event, fresh, _COPY_FIELDS, json_texts={"properties": texts})
        except (IntegrityError, psycopg_errors.UniqueViolation) as exc:
            if new_leads:  # the caller's whole chunk is retried (leads.bulk)
                raise IntegrityError(str(exc)) from exc
            # A concurrent request stored some of the same keys: fall back to one by one.
            return _record_one_by_one(items, via=via, actor=actor)
    if fresh or new_leads:
        pipeline.dispatch(fresh, new_leads)
    return [r for r in results if r is not None]


EVENT_FIELDS = ("id", "lead_id", "visitor_id", "type", "properties", "via", "actor_id",
                "occurred_at", "received_at", "idempotency_key")
_new_event = builder(Event, EVENT_FIELDS)

_COPY_FIELDS = ("lead", "visitor_id", "type", "properties", "via", "actor", "occurred_at",
                "received_at", "idempotency_key")


def record_halt(lead_ids: list[int], types: list[str], depth: int) -> None:
    """The pipeline's halt recorder (set in TrackingConfig.ready()): a runaway cascade
    goes on the timeline of the leads involved, stored but never dispatched."""
    record_events([NewEvent(type=EventType.PIPELINE_HALTED, lead_id=lead_id,
                            properties={"depth": depth, "undispatched": types})
                   for lead_id in lead_ids])


def _record_one_by_one(items: Sequence[NewEvent], *, via: str,
                       actor: User | None) -> list[tuple[Event, bool]]:
    out = []
    for item in items:
        key = item.idempotency_key
        if key:
            found = Event.objects.filter(idempotency_key=key).first()
            if found:
                out.append((found, False))
                continue
        out.extend(record_events([item], via=via, actor=actor))
    return out


def _validate(item: NewEvent, index: int) -> None:
    """Check one event, and serialise its properties (`properties_json`, stored as is)."""
    if not item.type or len(item.type) > 60:
        raise InvalidInput(_("Event %(index)s: type must be 1 to 60 characters.")
                           % {"index": index}, field="type")
    if not isinstance(item.properties, dict):
        raise InvalidInput(_("Event %(index)s: properties must be an object.") % {"index": index},
                           field="properties")
    try:
        raw = to_json(item.properties)
    except PydanticSerializationError:
        raise InvalidInput(_("Event %(index)s: properties must be JSON values.") % {"index": index},
                           field="properties") from None
    if len(raw) > MAX_PROPERTIES_BYTES:
        raise InvalidInput(_("Event %(index)s: properties are larger than %(limit)s bytes.")
                           % {"index": index, "limit": MAX_PROPERTIES_BYTES}, field="properties")
    if item.occurred_at is not None:
        try:
            item.occurred_at = utc(item.occurred_at, "occurred_at")
        except InvalidInput as exc:
            raise InvalidInput(_("Event %(index)s: %(message)s")
                               % {"index": index, "message": exc.message},
                               field=exc.field) from None
    if item.idempotency_key is not None and len(item.idempotency_key) > 120:
        raise InvalidInput(_("Event %(index)s: idempotency_key is longer than 120 characters.")
                           % {"index": index},
                           field="idempotency_key")
    # JSON writes a NUL as \u0000: the full walk runs only when that text is there
    # (per-event cost matters in batches of 1,000).
    if ("\x00" in item.type or "\x00" in item.visitor_id
            or "\x00" in (item.idempotency_key or "")
            or (b"\\u0000" in raw and contains_nul(item.properties))):
        raise InvalidInput(_("Event %(index)s: text may not contain NUL characters.")
                           % {"index": index},
                           field="properties")
    item.properties_json = raw.decode()


def timeline(lead: Lead) -> QuerySet[Event]:
    """The lead's events, newest first."""
    return Event.objects.filter(lead=lead).select_related("actor").order_by("-occurred_at", "-id")


class EventItem(Protocol):
    """What ingest_events reads of each item (the API's parsed EventIn has it all)."""

    type: str | None
    lead_id: int | None
    email: str | None
    external_id: str | None
    visitor_id: str
    properties: dict[str, Any]
    occurred_at: datetime | None
    idempotency_key: str | None


@dataclass
class IngestResult:
    index: int
    status: str  # "created", "duplicate" or "error"
    event_id: int | None = None
    message: str = ""


MAX_BATCH = 1000
# The lead model, through the relation (tracking stands below leads and imports none of it).
_LEAD = Event._meta.get_field("lead").related_model


def ingest_events(user: User, items: Sequence[EventItem], *,
                  via: str = Event.Via.API) -> list[IngestResult]:
    """Store a batch of events sent from outside (the API), naming leads by id, email or
    external id among the leads `user` may see. A bad item, or one of a type only Leadflow
    records (tracking.events), gets an error result and never stops the good ones.
    Precondition: at most MAX_BATCH items."""
    from leadflow.tracking.events import Recorder, refusal

    if len(items) > MAX_BATCH:
        raise InvalidInput(_("At most %(limit)s events per batch.")
                           % {"limit": MAX_BATCH}, field="events")
    # An erased person is an anonymous row kept for reports: nothing may be added to it.
    leads = scoped(_LEAD._default_manager.all(), user).filter(erased_at__isnull=True)
    emails: set[str] = set()
    externals: set[str] = set()
    ids: set[int] = set()
    for item in items:
        if item.lead_id:
            ids.add(item.lead_id)
        if item.external_id:
            externals.add(item.external_id)
        if item.email:
            with contextlib.suppress(InvalidInput):
                if email := normalise_email(item.email):
                    emails.add(email)
    # Values no row can hold are left out of the lookups (they would fail the query itself);
    # their items get "no lead" errors.
    ids = {i for i in ids if valid_id(i)}
    externals = {e for e in externals if not contains_nul(e)}
    by_id = set(leads.filter(pk__among=ids).values_list("pk", flat=True)) if ids else set()
    by_email = (dict(leads.filter(email__among=emails)
                     .values_list("email", "pk")) if emails else {})
    by_ext = (dict(leads.filter(external_id__among=externals)
                   .values_list("external_id", "pk")) if externals else {})

    results: list[IngestResult | None] = [None] * len(items)
    accepted: list[tuple[int, NewEvent]] = []
    for idx, item in enumerate(items):
        try:
            if refused := refusal(item.type or "", Recorder.API):
                raise InvalidInput(refused, field="type")
            lead_id = _resolve(item, by_id, by_email, by_ext)
            new = NewEvent(type=item.type or "", lead_id=lead_id, visitor_id=item.visitor_id[:64],
                           properties=item.properties, occurred_at=item.occurred_at,
                           idempotency_key=item.idempotency_key)
            _validate(new, idx)
        except InvalidInput as exc:
            results[idx] = IngestResult(idx, "error", message=exc.message)
            continue
        if new.idempotency_key:
            new.idempotency_key = api_key(user.pk, new.idempotency_key)
        accepted.append((idx, new))
    if accepted:
        stored = _store([new for _, new in accepted], via=via, actor=user)
        for (idx, _item), (event, created) in zip(accepted, stored, strict=True):
            results[idx] = IngestResult(idx, "created" if created else "duplicate", event.pk)
    return [r for r in results if r is not None]


def api_key(user_id: int, key: str) -> str:
    """The stored form of an idempotency key sent through the API: namespaced by its
    sender, so that no token can take the keys Leadflow records its own events under
    ("email_opened:12") or another user's, nor learn their event ids from a "duplicate".
    A key too long for the column with its prefix is stored as its digest."""
    stored = f"api:{user_id}:{key}"
    if len(stored) > MAX_KEY:
        stored = f"api:{user_id}:#{hashlib.sha256(key.encode()).hexdigest()}"
    return stored


def _resolve(item: EventItem, by_id, by_email, by_ext) -> int | None:
    if item.lead_id:
        if item.lead_id not in by_id:
            raise InvalidInput(_("No lead #%(id)s (or you may not see it).") % {"id": item.lead_id})
        return item.lead_id
    if item.email:
        email = normalise_email(item.email)
        if email not in by_email:
            raise InvalidInput(_("No lead with email %(email)s.") % {"email": email})
        return by_email[email]
    if item.external_id:
        if item.external_id not in by_ext:
            raise InvalidInput(_("No lead with external id %(external_id)r.")
                               % {"external_id": item.external_id})
        return by_ext[item.external_id]
    if not item.visitor_id:
        raise InvalidInput(_("Name a lead (lead_id, email or external_id) or a visitor_id."))
    return None
