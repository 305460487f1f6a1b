"""Decisions on behaviour: yes as soon as the lead does the thing, no once the time limit
(`config["within_seconds"]`, from the moment the lead reached the decision) is over.

A membership still waiting for a decision names the event type it waits for
(`Enrollment.waits_for`); the pipeline makes it due when the lead records one
(campaigns.entry.wake), so the decision is taken within seconds of the event, and the
time limit makes it due anyway. Without a time limit the decision is taken at once.

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
from datetime import timedelta
from typing import Any, Literal

from leadflow.campaigns.models import Step
from leadflow.campaigns.steps import Context
from leadflow.campaigns.walk import Walker
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
    if step.kind in ABOUT_EMAIL:
        done = _engaged_with_last_email(step, walkers)
    else:
        done = _did(step, walkers)
    within = int((step.config or {}).get("within_seconds") or 0)
    for w in walkers:
        if w.pk in done:
            w.yes()
            continue
        deadline = (w.step_since or ctx.now) + timedelta(seconds=within)
        if within and ctx.now < deadline:
            w.wait(deadline, waits_for=event_type(step), deadline=deadline)
        else:
            w.no()


def _engaged_with_last_email(step: Step, walkers: list[Walker]) -> set[int]:
    """The memberships whose lead engaged with the last email the campaign sent it."""
    from leadflow.emails.engagement import engaged_leads
    from leadflow.emails.models import EmailMessage
    from leadflow.scoring.conditions import matches

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
    kind = ABOUT_EMAIL[step.kind]
    where = conditions(step)
    if not where:
        leads = engaged_leads(list(last), kind, message_ids=list(last.values()),
                              human_only=not step.count_machines)
        return {by_lead[lead].pk for lead in leads}
    from django.db.models import Q

    from leadflow.emails.engagement import by_a_person

    q = Q(lead_id__among=list(last), type=WAKES_ON[step.kind],
          properties__message_id__in=list(last.values()))
    if not step.count_machines:
        q = by_a_person(q)
    return {by_lead[lead].pk for lead, props in Event.objects.filter(q).values_list(
        "lead_id", "properties") if matches(where, props or {})}


def _did(step: Step, walkers: list[Walker]) -> set[int]:
    """The memberships whose lead recorded a matching event since reaching the step."""
    from leadflow.scoring.conditions import matches
    from leadflow.tracking.events import is_machine

    type_ = event_type(step)
    if not type_ or not walkers:
        return set()
    since = min(w.step_since or w.entered_at for w in walkers)
    by_lead: dict[int, list[Walker]] = defaultdict(list)
    for w in walkers:
        by_lead[w.lead_id].append(w)
    where = conditions(step)
    done: set[int] = set()
    for event in Event.objects.filter(lead_id__among=list(by_lead), type=type_,
                                      occurred_at__gte=since).only(
                                          "lead_id", "properties", "occurred_at"):
        if is_machine(event) or not matches(where, event.properties or {}):
            continue
        for w in by_lead[event.lead_id]:  # type: ignore[index]
            if event.occurred_at >= (w.step_since or w.entered_at):
                done.add(w.pk)
    return done
