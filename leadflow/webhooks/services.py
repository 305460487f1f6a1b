"""Webhook subscriptions (admins only) and the deliveries they get, queued set-based.

Every write names its actor and is checked by accounts.permissions.may_manage_webhooks.
Deliveries are rows claimed by workers (leadflow.webhooks.delivery); nothing here
talks to the network."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.accounts.models import User
from leadflow.accounts.permissions import may_manage_webhooks
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, NotFound
from leadflow.core.pipeline import Batch
from leadflow.core.sqlarrays import bulk_insert
from leadflow.scoring.conditions import matches, validate_conditions
from leadflow.scoring.models import RuleKind
from leadflow.webhooks import kinds, signing
from leadflow.webhooks.models import Delivery, Subscription

# How long the previous secret still signs after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
FIELDS = ("name", "url", "events", "conditions", "active", "allow_private")
# The columns a queued delivery sets (COPY on PostgreSQL: sqlarrays.bulk_insert).
INSERTED = ("attempts", "claimed_by", "subscription", "lead", "kind", "message_id", "payload",
            "status", "due_at", "last_error", "request_headers", "response_status",
            "response_body", "created_at", "delivered_at")


def _check(actor: User) -> None:
    if not may_manage_webhooks(actor):
        raise Forbidden(_("Only administrators manage webhooks."))


def _clean(values: dict[str, Any], current: Subscription | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise InvalidInput(_("Unknown field: %(field)s.") % {"field": unknown[0]},
                           field=unknown[0])
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name or len(name) > 120:
            raise InvalidInput(_("Give a name of at most 120 characters."), field="name")
        clean["name"] = name
    for flag in ("active", "allow_private"):
        if flag in values:
            if not isinstance(values[flag], bool):
                raise InvalidInput(_("%(field)s must be true or false.") % {"field": flag},
                                   field=flag)
            clean[flag] = values[flag]
    if "events" in values:
        events = values["events"]
        if not isinstance(events, list) or not events or not all(
                isinstance(e, str) and e in kinds.REGISTRY for e in events):
            raise InvalidInput(_("Choose events among: %(kinds)s.")
                               % {"kinds": ", ".join(kinds.REGISTRY)}, field="events")
        clean["events"] = sorted(set(events))
    if "conditions" in values:
        conditions = values["conditions"] or []
        try:
            clean["conditions"] = validate_conditions(RuleKind.EVENT, conditions)
        except InvalidInput as e:
            raise InvalidInput(e.message, field=f"conditions{'.' if e.field else ''}"
                               f"{(e.field or '').removeprefix('conditions.')}") from None
    allow_private = clean.get("allow_private", current.allow_private if current else False)
    if "url" in values or "allow_private" in clean:
        url = str(values.get("url", current.url if current else "") or "").strip()
        parts = urlsplit(url)
        plain_ok = settings.WEBHOOKS_ALLOW_HTTP or allow_private
        if (len(url) > 2000 or not parts.hostname
                or parts.scheme not in (("https", "http") if plain_ok else ("https",))):
            raise InvalidInput(_("Give an https:// URL (http:// only where allowed)."),
                               field="url")
        clean["url"] = url
    return clean


def create_subscription(values: dict[str, Any], *, actor: User) -> Subscription:
    """A new subscription with a fresh secret. Preconditions: `actor` is an admin;
    name, url and events given and valid (InvalidInput naming the field)."""
    _check(actor)
    for required in ("name", "url", "events"):
        if required not in values:
            raise InvalidInput(_("%(field)s is required.") % {"field": required},
                               field=required)
    now = clock.now()
    sub = Subscription.objects.create(**_clean(values, None), secret=signing.new_secret(),
                                      created_by=actor, created_at=now, updated_at=now)
    return sub


def update_subscription(sub: Subscription, values: dict[str, Any], *,
                        actor: User) -> Subscription:
    """Change some fields; turning a subscription back on clears its failure count."""
    _check(actor)
    clean = _clean(values, sub)
    if clean.get("active") and not sub.active:
        clean.update(failures=0, disabled_reason="")
    for key, value in clean.items():
        setattr(sub, key, value)
    sub.updated_at = clock.now()
    sub.save()
    return sub


def delete_subscription(sub: Subscription, *, actor: User) -> None:
    _check(actor)
    sub.delete()


def rotate_secret(sub: Subscription, *, actor: User,
                  overlap: timedelta = ROTATION_OVERLAP) -> Subscription:
    """A new secret; the old one still signs (a second signature) for `overlap`."""
    _check(actor)
    now = clock.now()
    sub.previous_secret, sub.previous_until = sub.secret, now + overlap
    sub.secret = signing.new_secret()
    sub.updated_at = now
    sub.save(update_fields=["secret", "previous_secret", "previous_until", "updated_at"])
    return sub


def get_subscription(pk: int, *, actor: User) -> Subscription:
    _check(actor)
    sub = Subscription.objects.filter(pk=pk).first()
    if sub is None:
        raise NotFound(_("No such webhook subscription."))
    return sub


def list_subscriptions(*, actor: User) -> list[Subscription]:
    _check(actor)
    return list(Subscription.objects.all())


def signing_secrets(sub: Subscription) -> list[str]:
    keep_previous = sub.previous_secret and sub.previous_until and clock.now() < sub.previous_until
    return [sub.secret, sub.previous_secret] if keep_previous else [sub.secret]


# --- queuing -----------------------------------------------------------------------------

def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def make_delivery(sub_id: int, kind: str, data: dict[str, Any], lead_id: int | None,
              now: Any) -> Delivery:
    return Delivery(subscription_id=sub_id, lead_id=lead_id, kind=kind,
                    message_id=new_message_id(), due_at=now, created_at=now,
                    payload={"type": kind, "timestamp": now.isoformat(), "data": data})


def lead_data(lead: Any) -> dict[str, Any]:
    return {"id": lead.pk, "external_id": lead.external_id, "email": lead.email,
            "first_name": lead.first_name, "last_name": lead.last_name,
            "stage": lead.stage, "score": lead.score, "grade": lead.grade,
            "owner_id": lead.owner_id, "team_id": lead.team_id}


def wake_workers() -> None:
    from leadflow.webhooks.tasks import deliver_due

    transaction.on_commit(lambda: deliver_due.enqueue())


def on_events(batch: Batch) -> None:
    """The pipeline step: a delivery for each event a subscription asks for, in one query
    for the subscriptions (none while there are none), one for the leads, one insert."""
    wanted = kinds.by_event_type()
    events = [e for e in batch.events if e.type in wanted and e.lead_id is not None]
    if not events:
        return
    # Read each batch (a small table): a cache per process would miss a new
    # subscription's first events in the processes that had not seen it.
    subs = list(Subscription.objects.filter(active=True).values_list("pk", "events",
                                                                     "conditions"))
    if not subs:
        return
    now = clock.now()
    pairs = [(e, kind, pk) for e in events for kind in wanted[e.type]
             for pk, asked, conditions in subs
             if kind in asked and matches(conditions, e.properties or {})]
    if not pairs:
        return
    from leadflow.leads.models import Lead

    leads = {lead.pk: lead for lead in Lead.objects.filter(
        pk__among=sorted({e.lead_id for e, _k, _s in pairs}))}
    rows = [make_delivery(pk, kind, {"lead": lead_data(leads[e.lead_id]), "event": {
        "id": e.pk, "type": e.type, "properties": e.properties,
        "occurred_at": e.occurred_at.isoformat()}}, e.lead_id, now)
        for e, kind, pk in pairs if e.lead_id in leads]
    bulk_insert(Delivery, rows, INSERTED)
    wake_workers()


def send_erasures(people: Iterable[Any]) -> None:
    """The erasure's store hook (leads.privacy.register_store): the lead's deliveries are
    gone with it (a foreign key); subscribers of `lead.erased` get its ids only."""
    people = list(people)
    subs = [pk for pk, asked in Subscription.objects.filter(active=True)
            .values_list("pk", "events") if kinds.ERASED in asked]
    if not subs or not people:
        return
    now = clock.now()
    Delivery.objects.bulk_create(
        make_delivery(pk, kinds.ERASED, {"lead": {"id": p.lead_id,
                                              "external_id": p.external_id or None}},
                  None, now) for pk in subs for p in people)
    wake_workers()


def send_test(sub: Subscription, *, actor: User) -> Delivery:
    """Queue a `webhook.test` message (the "send test" button)."""
    _check(actor)
    now = clock.now()
    delivery = make_delivery(sub.pk, kinds.TEST, {"message": "Test from Leadflow"}, None, now)
    delivery.save()
    wake_workers()
    return delivery


def redeliver(delivery: Delivery, *, actor: User) -> Delivery:
    """Send a delivery again (same webhook-id, so receivers can drop a duplicate)."""
    _check(actor)
    if delivery.claimed_by:
        raise InvalidInput(_("This delivery is being sent right now."), field="id")
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, due_at=clock.now(), attempts=0, last_error="")
    wake_workers()
    delivery.refresh_from_db()
    return delivery
