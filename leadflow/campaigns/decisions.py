"""Decisions on behaviour: yes as soon as the lead does the thing, no once the time limit
(`config["within_seconds"]`, from the moment the lead reached the decision) is over.

A membership still waiting for a decision names the event type it waits for
(`Enrollment.waits_for`); the pipeline makes it due when the lead records one
(campaigns.entry.wake), so the decision is taken within seconds of the event, and the
time limit makes it due anyway. Without a time limit the decision is taken at once.
What the lead does after the time limit does not count, however late the membership is
looked at.

What counts:
- opened, clicked, clicked a given link: the last email this campaign sent the lead
  (in this membership), a person's opens and clicks only unless the step counts
  machines (emails.engagement);
- visited a page, submitted a form, bought, any event: an event of the lead since it
  reached the decision, whose properties match the step's conditions
  (`config["where"]`, scoring.conditions; "visited" also takes `config["url_contains"]`,
  "submitted" `config["form"]`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal

from django.db.models import Q

from leadflow.campaigns.models import Step
from leadflow.campaigns.steps import Context
from leadflow.campaigns.walk import Walker
from leadflow.emails.engagement import by_a_person
from leadflow.emails.models import EmailMessage
from leadflow.scoring.conditions import matches
from leadflow.tracking.events import is_machine
from leadflow.tracking.models import Event, EventType

S = Step.Kind
# The event type each decision waits for ("" : the step's `config["event_type"]`).
WAKES_ON: dict[str, str] = {
    S.IF_OPENED: EventType.EMAIL_OPENED, S.IF_CLICKED: EventType.EMAIL_CLICKED,
    S.IF_CLICKED_LINK: EventType.EMAIL_CLICKED, S.IF_VISITED: EventType.PAGE_VIEW,
    S.IF_SUBMITTED: EventType.FORM_SUBMITTED, S.IF_BOUGHT: EventType.PURCHASE,
    S.IF_EVENT: ""}
ABOUT_EMAIL: dict[str, Literal["open", "click"]] = {
    S.IF_OPENED: "open", S.IF_CLICKED: "click", S.IF_CLICKED_LINK: "click"}


def event_type(step: Step) -> str:
    return WAKES_ON.get(step.kind) or str((step.config or {}).get("event_type") or "")


def conditions(step: Step) -> list[dict[str, Any]]:
    """The property conditions an event must meet, the step's shortcuts included."""
    config = step.config or {}
    where = list(config.get("where") or [])
    if step.kind == S.IF_CLICKED_LINK and config.get("url"):
        where.append({"field": "url", "op": "contains", "value": config["url"]})
    if step.kind == S.IF_VISITED and config.get("url_contains"):
        where.append({"field": "url", "op": "contains", "value": config["url_contains"]})
    if step.kind == S.IF_SUBMITTED and config.get("form"):
        where.append({"field": "form", "op": "equals", "value": config["form"]})
    return where


def decide(step: Step, walkers: list[Walker], ctx: Context) -> None:
    within = int((step.config or {}).get("within_seconds") or 0)
    # What the lead does after the time limit does not count, even when the membership
    # is looked at later than its limit (a backlog, a wake-up by that very event).
    limits = {w.pk: (w.step_since or ctx.now) + timedelta(seconds=within)
              for w in walkers} if within else {}
    if step.kind in ABOUT_EMAIL:
        done = _engaged_with_last_email(step, walkers, limits)
    else:
        done = _did(step, walkers, limits)
    for w in walkers:
        if w.pk in done:
            w.yes()
        elif within and ctx.now < limits[w.pk]:
            w.wait(limits[w.pk], waits_for=event_type(step), deadline=limits[w.pk])
        else:
            w.no()


def _in_time(at: datetime, w: Walker, limits: dict[int, datetime]) -> bool:
    return w.pk not in limits or at < limits[w.pk]


def _engaged_with_last_email(step: Step, walkers: list[Walker],
                             limits: dict[int, datetime]) -> set[int]:
    """The memberships whose lead engaged with the last email the campaign sent it
    (before the decision's time limit)."""
    if not walkers:
        return set()
    by_lead = {w.lead_id: w for w in walkers}
    last: dict[int, int] = {}  # lead -> its last sent message of this membership
    for lead, pk, key in EmailMessage.objects.filter(
            campaign_id=step.campaign_id, lead_id__among=list(by_lead),
            status=EmailMessage.Status.SENT).order_by("pk").values_list(
            "lead_id", "pk", "dedupe_key"):
        if key.startswith(f"enrollment:{by_lead[lead].pk}:"):
            last[lead] = pk
    if not last:
        return set()
    where = conditions(step)
    q = Q(lead_id__among=list(last), type=WAKES_ON[step.kind],
          properties__message_id__in=list(last.values()))
    if limits:
        q &= Q(occurred_at__lt=max(limits.values()))
    if not step.count_machines:
        q = by_a_person(q)
    return {by_lead[lead].pk for lead, props, at in Event.objects.filter(q).values_list(
        "lead_id", "properties", "occurred_at")
        if _in_time(at, by_lead[lead], limits) and matches(where, props or {})}


def _did(step: Step, walkers: list[Walker], limits: dict[int, datetime]) -> set[int]:
    """The memberships whose lead recorded a matching event since reaching the step (and
    before its time limit)."""

    type_ = event_type(step)
    if not type_ or not walkers:
        return set()
    since = min(w.step_since or w.entered_at for w in walkers)
    by_lead: dict[int, list[Walker]] = defaultdict(list)
    for w in walkers:
        by_lead[w.lead_id].append(w)
    where = conditions(step)
    q = Q(lead_id__among=list(by_lead), type=type_, occurred_at__gte=since)
    if limits:
        q &= Q(occurred_at__lt=max(limits.values()))
    done: set[int] = set()
    for event in Event.objects.filter(q).only("lead_id", "properties", "occurred_at"):
        if is_machine(event) or not matches(where, event.properties or {}):
            continue
        for w in by_lead[event.lead_id]:  # type: ignore[index]
            if (event.occurred_at >= (w.step_since or w.entered_at)
                    and _in_time(event.occurred_at, w, limits)):
                done.add(w.pk)
    return done
