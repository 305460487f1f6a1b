"""A rep's work on a lead: logged touches (calls, one-to-one emails, meetings, notes) and
opportunities. Each is written here, named with its actor and checked by the one
permissions module; a lead the actor may not change is not found (as it is not seen).

Touches live on the timeline only (tracking.Event): the timeline is the record, and
`first_touch_after` reads it set-based for the response-time clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, may_change_lead, may_close_deals
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, NotFound, contains_nul
from leadflow.core.params import utc
from leadflow.leads.models import Lead
from leadflow.lifecycle.services import mark_outcome
from leadflow.sales.models import Opportunity
from leadflow.tracking.events import CALL_OUTCOMES
from leadflow.tracking.models import Event, EventType
from leadflow.tracking.services import NewEvent, record_events

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# What a rep logs, by the name the API and the form use.
ACTIVITY_TYPES = {"call": EventType.CALL_LOGGED, "email": EventType.EMAIL_LOGGED,
                  "meeting": EventType.MEETING_LOGGED, "note": EventType.NOTE}
ACTIVITY_KINDS = {v: k for k, v in ACTIVITY_TYPES.items()}
# The touches that stop a response-time clock: a note is not a touch of the person.
TOUCH_TYPES = (EventType.CALL_LOGGED, EventType.EMAIL_LOGGED, EventType.MEETING_LOGGED)
TEXT_MAX = 5000
MAX_DURATION = 24 * 60
# A touch logged "now" from a device whose clock runs a little ahead is still now.
FUTURE_SLACK = timedelta(minutes=5)
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_VALUE = Decimal("999999999999.99")


def check_lead(lead: Lead, actor: User) -> None:
    """NotFound unless `actor` may change `lead` (its existence is not revealed)."""
    if lead.erased_at is not None or not may_change_lead(
            Actor.of(actor), owner_id=lead.owner_id, team_id=lead.team_id):
        raise NotFound(_("No lead #%(id)s (or you may not see it).") % {"id": lead.pk})


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if contains_nul(value):
        raise InvalidInput(_("%(field)s may not contain NUL characters.") % {"field": field},
                           field=field)
    if required and not value:
        raise InvalidInput(_("%(field)s is required.") % {"field": field}, field=field)
    if len(value) > limit:
        raise InvalidInput(_("%(field)s is longer than %(n)s characters.") % {
            "field": field, "n": limit}, field=field)
    return value


def moment(value: datetime, field: str) -> datetime:
    """A time given by a person or a client, aware and in UTC: a naive one is read in the
    current time zone; an offset PostgreSQL refuses, or a move off the calendar, is a 422."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return utc(value, field)


# --- Touches ------------------------------------------------------------------------------

def log_activity(lead: Lead, kind: str, *, actor: User, text: str = "",
                 occurred_at: datetime | None = None, duration: int | None = None,
                 outcome: str = "", subject: str = "", via: str = Event.Via.UI) -> Event:
    """Log a call, a one-to-one email, a meeting or a note on `lead`, as an event on its
    timeline recorded by `actor`. `occurred_at` (default now) may be past, not future;
    `duration` (minutes) is for calls and meetings, `outcome` (CALL_OUTCOMES) for calls,
    `subject` for emails. A note needs its text."""
    check_lead(lead, actor)
    if kind not in ACTIVITY_TYPES:
        raise InvalidInput(_("Unknown activity %(kind)r: call, email, meeting or note.")
                           % {"kind": kind}, field="kind")
    now = clock.now()
    when = moment(occurred_at, "occurred_at") if occurred_at else now
    if when > now + FUTURE_SLACK:
        raise InvalidInput(_("An activity cannot have happened in the future."),
                           field="occurred_at")
    props: dict[str, object] = {"text": _text(text, "text", TEXT_MAX, required=kind == "note")}
    if duration is not None:
        if kind not in ("call", "meeting"):
            raise InvalidInput(_("Only calls and meetings have a duration."), field="duration")
        if not 0 < duration <= MAX_DURATION:
            raise InvalidInput(_("The duration is in minutes, from 1 to %(n)s.")
                               % {"n": MAX_DURATION}, field="duration")
        props["duration"] = duration
    if outcome:
        if kind != "call":
            raise InvalidInput(_("Only calls have an outcome."), field="outcome")
        if outcome not in CALL_OUTCOMES:
            raise InvalidInput(_("Unknown call outcome %(o)r: %(known)s.") % {
                "o": outcome, "known": ", ".join(CALL_OUTCOMES)}, field="outcome")
        props["outcome"] = outcome
    if subject:
        if kind != "email":
            raise InvalidInput(_("Only emails have a subject."), field="subject")
        props["subject"] = _text(subject, "subject", 200)
    [(event, _created)] = record_events(
        [NewEvent(type=ACTIVITY_TYPES[kind], lead_id=lead.pk, properties=props,
                  occurred_at=when)], via=via, actor=actor)
    return event


def activities(lead: Lead, limit: int = 200) -> list[Event]:
    """The touches and notes logged on `lead`, newest first."""
    return list(Event.objects.filter(lead=lead, type__in=list(ACTIVITY_KINDS))
                .select_related("actor").order_by("-occurred_at", "-id")[:limit])


def first_touch_after(lead_ids: Iterable[int], since: datetime) -> dict[int, datetime]:
    """For each lead, when its first logged touch (a call, a one-to-one email, a meeting)
    at or after `since` happened; leads without one are absent. One query, whatever the
    number of leads: what a response-time clock stops on."""
    ids = sorted(set(lead_ids))
    if not ids:
        return {}
    rows = (Event.objects.filter(lead_id__among=ids, type__in=TOUCH_TYPES,
                                 occurred_at__gte=since)
            .order_by().values("lead_id").annotate(first=Min("occurred_at")))
    return {row["lead_id"]: row["first"] for row in rows}


# --- Opportunities ------------------------------------------------------------------------

def _value(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The value must be a number."), field="value") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_VALUE:
        raise InvalidInput(_("The value must be between 0 and %(max)s.") % {"max": MAX_VALUE},
                           field="value")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(_("The value has at most two decimals."), field="value")
    return amount.quantize(Decimal("0.01"))


def _currency(code: str) -> str:
    code = (code or "").strip().upper()
    if not CURRENCY.match(code):
        raise InvalidInput(_("The currency is a three-letter ISO 4217 code, such as EUR."),
                           field="currency")
    return code


def _deal_props(opp: Opportunity) -> dict[str, object]:
    # A float for the timeline's money format; the Decimal stays in the table.
    return {"opportunity_id": opp.pk, "name": opp.name, "value": float(opp.value),
            "currency": opp.currency, "product": opp.product}


@transaction.atomic
def open_opportunity(lead: Lead, *, actor: User, name: str, value: object, currency: str,
                     product: str = "", expected_close: date | None = None,
                     via: str = Event.Via.UI) -> Opportunity:
    """Open a deal with `lead` (a lead may have several), and say so on its timeline."""
    check_lead(lead, actor)
    opp = Opportunity.objects.create(
        lead=lead, name=_text(name, "name", 200, required=True), value=_value(value),
        currency=_currency(currency), product=_text(product, "product", 200),
        expected_close=expected_close, created_by=actor, created_at=clock.now())
    record_events([NewEvent(type=EventType.OPPORTUNITY_OPENED, lead_id=lead.pk,
                            properties=_deal_props(opp))], via=via, actor=actor)
    return opp


@transaction.atomic
def close_opportunity(opp: Opportunity, stage: str, *, actor: User, reason: str = "",
                      via: str = Event.Via.UI) -> Opportunity:
    """Mark an open deal won or lost, with a reason. Winning one makes the lead a customer
    (lifecycle.mark_outcome, cause "opportunity"); losing one leaves the lead where it is
    (it may have other deals). Preconditions: the deal is open (Conflict); the actor may
    close deals (sales and admins: Forbidden otherwise)."""
    lead = Lead.objects.select_for_update().get(pk=opp.lead_id)
    check_lead(lead, actor)
    if stage not in (Opportunity.Stage.WON, Opportunity.Stage.LOST):
        raise InvalidInput(_("Stage must be 'won' or 'lost'."), field="stage")
    if not may_close_deals(actor):
        raise Forbidden(_("Only sales reps, sales managers and admins mark deals won or lost."))
    reason = _text(reason, "reason", 300)
    # Locked: two people closing the same deal at once close it once.
    opp = Opportunity.objects.select_for_update().get(pk=opp.pk)
    if opp.stage != Opportunity.Stage.OPEN:
        raise Conflict(_("This opportunity is closed already (%(stage)s).")
                       % {"stage": opp.get_stage_display()})
    opp.stage, opp.reason, opp.closed_at = stage, reason, clock.now()
    opp.save(update_fields=["stage", "reason", "closed_at"])
    record_events([NewEvent(type=EventType.OPPORTUNITY_CLOSED, lead_id=lead.pk,
                            properties={**_deal_props(opp), "stage": stage,
                                        "reason": reason})], via=via, actor=actor)
    if stage == Opportunity.Stage.WON:
        mark_outcome(lead, "won", actor=actor, via=via, cause="opportunity",
                     reason=reason or _("opportunity %(name)s won") % {"name": opp.name})
    return opp


def opportunities(lead: Lead) -> list[Opportunity]:
    return list(Opportunity.objects.filter(lead=lead))


def get_opportunity(lead: Lead, opportunity_id: int) -> Opportunity:
    opp = Opportunity.objects.filter(lead=lead, pk=opportunity_id).first() if (
        0 < opportunity_id < 2**63) else None
    if opp is None:
        raise NotFound(_("No opportunity #%(id)s on this lead.") % {"id": opportunity_id})
    return opp
