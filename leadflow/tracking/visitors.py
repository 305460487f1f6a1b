"""Visitors (browsers named by the first-party `lf_vid` cookie) and their merge into leads.

A visitor's events are stored anonymously (lead null, visitor_id set) until it identifies:
by a form submit, a click in a tracked email or `leadflow('identify', {...})`. `identify`
then moves that history onto the lead in one UPDATE and hands it to the pipeline, so the
same person on two devices (two visitor ids, one email) ends up as one lead, one timeline.

Anyone can type a known person's email into a page: an identify (or form) that names an
EXISTING lead without proof only `claim`s it. The visitor's events stay anonymous (the
pipeline never sees them: no score, no stage, no campaign) until the claim is verified,
by a signed identify, a tracked email click (`lf_id`) or a double opt-in confirmation;
`identify` then moves them onto the lead and dispatches them, exactly as an anonymous
history, so the earlier events count from that moment, once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeGuard

from django.core import signing
from django.db import IntegrityError, transaction

from leadflow.core import clock, pipeline
from leadflow.tracking.models import Event, Visitor

if TYPE_CHECKING:
    from collections.abc import Callable

    from leadflow.accounts.permissions import Actor
    from leadflow.leads.models import Lead

# What lf.js generates (and what a cookie we accept may hold): no spaces, quotes or NULs.
VISITOR_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# A tracked email click appends `lf_id=<token>` to its destination; lf.js sends it back
# with the visitor id. Short-lived: a forwarded link soon stops identifying anyone.
_LF_ID = signing.TimestampSigner(salt="leadflow.tracking.lf_id")
LF_ID_MAX_AGE = 30 * 60


# Creates or updates the lead a page's `identify` names: leads registers its upsert here
# (LeadsConfig.ready()), since tracking stands below leads. Called as
# fn(data, via=..., actor=...) -> (lead, created).
_identify_lead: Callable[..., tuple[Lead, bool]] | None = None


def register_identify(upsert: Callable[..., tuple[Lead, bool]]) -> None:
    global _identify_lead
    _identify_lead = upsert


def identify_lead(data: dict[str, str], *, via: str, actor: Actor) -> tuple[Lead, bool]:
    if _identify_lead is None:
        raise RuntimeError("no identify hook: is leadflow.leads installed?")
    return _identify_lead(data, via=via, actor=actor)


def lead_model() -> type[Lead]:
    """The lead model, through the relation (tracking imports nothing of leads)."""
    return Visitor._meta.get_field("lead").related_model  # type: ignore[return-value]


def lf_id_token(lead_id: int) -> str:
    return _LF_ID.sign(str(lead_id))


def read_lf_id(token: object) -> int | None:
    if not isinstance(token, str) or len(token) > 200:
        return None
    try:
        return int(_LF_ID.unsign(token, max_age=LF_ID_MAX_AGE))
    except (signing.BadSignature, ValueError):
        return None


def valid_visitor_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and VISITOR_ID_RE.match(value) is not None


def get_or_create_visitor(visitor_id: str, *, user_agent: str = "", is_bot: bool = False,
                          site_id: int | None = None) -> Visitor:
    """The visitor row for a (valid) visitor id, created on first sight."""
    visitor = Visitor.objects.filter(visitor_id=visitor_id).first()
    if visitor is not None:
        return visitor
    now = clock.now()
    try:
        with transaction.atomic():
            return Visitor.objects.create(visitor_id=visitor_id, first_seen=now, last_seen=now,
                                          user_agent=user_agent[:400], is_bot=is_bot,
                                          site_id=site_id)
    except IntegrityError:  # created by a concurrent beacon
        return Visitor.objects.get(visitor_id=visitor_id)


@transaction.atomic
def identify(visitor_id: str, lead: Lead) -> int:
    """Link the visitor to `lead` and move its anonymous history onto the lead's timeline.
    Returns the number of events merged (0 when there was nothing to merge, and for an
    empty or malformed visitor id, which a form submit must not fail on).

    The merged events were stored without a lead, so the pipeline has never seen them
    (dispatch skips lead-less events): they are dispatched now, exactly once, because the
    UPDATE only takes events whose lead is still null, and the visitor row lock makes
    concurrent identifies of the same visitor wait for each other. Bots are never linked.
    Calling it again for the same pair is harmless (it merges nothing).
    """
    if not valid_visitor_id(visitor_id):
        return 0
    get_or_create_visitor(visitor_id)
    visitor = Visitor.objects.select_for_update().get(visitor_id=visitor_id)
    if visitor.is_bot:
        return 0
    if visitor.lead_id != lead.pk or visitor.claimed_lead_id is not None:
        Visitor.objects.filter(pk=visitor.pk).update(lead=lead, claimed_lead=None,
                                                     claimed_via="", last_seen=clock.now())
    anonymous = Event.objects.filter(visitor_id=visitor_id, lead__isnull=True)
    ids = list(anonymous.values_list("pk", flat=True))
    if not ids:
        return 0
    merged = Event.objects.filter(pk__in=ids, lead__isnull=True).update(lead=lead)
    events = list(Event.objects.filter(pk__in=ids, lead=lead).order_by("occurred_at", "id"))
    pipeline.dispatch(events)
    return merged


@transaction.atomic
def claim(visitor_id: str, lead: Lead, *, via: str) -> None:
    """Note that the visitor says it is `lead` (an existing lead) without proof: it is
    unlinked from any lead, so its next events are stored anonymously until
    `verify_claims` or `identify` links it. Nothing changes for a visitor already linked
    to `lead` (verified earlier), for a bot, or for a malformed visitor id. `via` names
    what may verify the claim ("optin:<id>"), or only where it came from ("identify")."""
    if not valid_visitor_id(visitor_id):
        return
    get_or_create_visitor(visitor_id)
    visitor = Visitor.objects.select_for_update().get(visitor_id=visitor_id)
    if visitor.is_bot or visitor.lead_id == lead.pk:
        return
    Visitor.objects.filter(pk=visitor.pk).update(lead=None, claimed_lead=lead,
                                                 claimed_via=via[:40], last_seen=clock.now())


def verify_claims(lead: Lead, *, via: list[str]) -> int:
    """Link the visitors whose claim of `lead` came with one of `via` (a confirmed double
    opt-in's "optin:<id>") and merge their events. Returns the number of events merged."""
    claimed = Visitor.objects.filter(claimed_lead=lead, claimed_via__in=via)
    return sum(identify(vid, lead) for vid in claimed.values_list("visitor_id", flat=True))


def lead_for_visitor(visitor_id: str) -> int | None:
    """The lead id a visitor has been identified as, if any."""
    return (Visitor.objects.filter(visitor_id=visitor_id, is_bot=False)
            .values_list("lead_id", flat=True).first())
