"""The rep's work on a lead, under the leads prefix (`leads_router`: /api/v1/leads/{id}/
activities, /tasks, /opportunities) and the caller's own tasks (`tasks_router`:
/api/v1/tasks). A lead the caller may not see is a 404, as everywhere."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.core import clock
from leadflow.core.errors import InvalidInput
from leadflow.core.params import valid_id
from leadflow.core.responses import answers
from leadflow.leads.services import get_visible_lead
from leadflow.sales import followups, services
from leadflow.tracking.models import Event

leads_router = Router(tags=["sales"])
tasks_router = Router(tags=["sales"])


class ActivityIn(Schema):
    kind: Literal["call", "email", "meeting", "note"]
    text: str = ""
    occurred_at: datetime | None = Field(None, description="When it happened (default now)")
    duration: int | None = Field(None, description="Minutes (calls and meetings)")
    outcome: str = Field("", description="Calls: connected, voicemail, no_answer, "
                                         "wrong_number")
    subject: str = Field("", description="Emails: the subject line")


class ActivityOut(Schema):
    event_id: int
    kind: str
    occurred_at: datetime
    actor_id: int | None
    text: str
    duration: int | None
    outcome: str
    subject: str


def _activity(event: Event) -> ActivityOut:
    p = event.properties or {}
    return ActivityOut(event_id=event.pk, kind=services.ACTIVITY_KINDS[event.type],
                       occurred_at=event.occurred_at, actor_id=event.actor_id,
                       text=str(p.get("text") or p.get("note") or ""),
                       duration=p.get("duration"), outcome=str(p.get("outcome") or ""),
                       subject=str(p.get("subject") or ""))


@leads_router.get("/{lead_id}/activities", response=answers(list[ActivityOut], 404, 422),
                  summary="The calls, emails, meetings and notes logged on a lead")
def list_activities(request, lead_id: int):
    lead = get_visible_lead(request.user, lead_id)
    return [_activity(e) for e in services.activities(lead)]


@leads_router.post("/{lead_id}/activities", response=answers({201: ActivityOut}, 404, 413,
                                                              422),
                   summary="Log a call, an email, a meeting or a note")
def log_activity(request, lead_id: int, payload: ActivityIn):
    lead = get_visible_lead(request.user, lead_id)
    event = services.log_activity(
        lead, payload.kind, actor=request.user, text=payload.text,
        occurred_at=payload.occurred_at, duration=payload.duration, outcome=payload.outcome,
        subject=payload.subject, via=Event.Via.API)
    return Status(201, _activity(event))


class TaskIn(Schema):
    title: str
    due_at: datetime
    assignee_id: int | None = Field(None, description="Default: the caller")
    remind_before: int = Field(0, description="Also remind this many minutes before")


class TaskChange(Schema):
    done: bool | None = None
    title: str | None = None
    due_at: datetime | None = None
    assignee_id: int | None = None
    remind_before: int | None = None


class TaskOut(Schema):
    id: int
    lead_id: int
    title: str
    assignee_id: int
    due_at: datetime
    remind_before: int
    done_at: datetime | None
    overdue: bool
    created_at: datetime


def _task(task) -> TaskOut:
    return TaskOut(id=task.pk, lead_id=task.lead_id, title=task.title,
                   assignee_id=task.assignee_id, due_at=task.due_at,
                   remind_before=task.remind_before, done_at=task.done_at,
                   overdue=task.done_at is None and task.due_at < clock.now(),
                   created_at=task.created_at)


def _assignee(pk: int | None):
    if pk is None:
        return None
    user = (get_user_model().objects.filter(pk=pk, is_active=True).first()
            if valid_id(pk) else None)
    if user is None:
        raise InvalidInput(_("No active user #%(id)s.") % {"id": pk}, field="assignee_id")
    return user


@leads_router.get("/{lead_id}/tasks", response=answers(list[TaskOut], 404, 422),
                  summary="A lead's tasks")
def list_lead_tasks(request, lead_id: int):
    lead = get_visible_lead(request.user, lead_id)
    return [_task(t) for t in followups.tasks_of(lead)]


@leads_router.post("/{lead_id}/tasks", response=answers({201: TaskOut}, 404, 413, 422),
                   summary="Create a task on a lead")
def create_task(request, lead_id: int, payload: TaskIn):
    lead = get_visible_lead(request.user, lead_id)
    task = followups.create_task(lead, actor=request.user, title=payload.title,
                                 due_at=payload.due_at, assignee=_assignee(payload.assignee_id),
                                 remind_before=payload.remind_before)
    return Status(201, _task(task))


@tasks_router.get("", response=answers(list[TaskOut], 422),
                  summary="My tasks, overdue first")
def my_tasks(request, done: bool = False):
    return [_task(t) for t in followups.my_tasks(request.user, done=done)[:500]]


@tasks_router.patch("/{task_id}", response=answers(TaskOut, 404, 413, 422),
                    summary="Mark a task done or not done, rename, reschedule, reassign")
def change_task(request, task_id: int, payload: TaskChange):
    task = followups.get_task(request.user, task_id)
    task = followups.update_task(task, actor=request.user, done=payload.done,
                                 title=payload.title, due_at=payload.due_at,
                                 remind_before=payload.remind_before,
                                 assignee=_assignee(payload.assignee_id))
    return _task(task)


class OpportunityIn(Schema):
    name: str
    value: Decimal = Field(description="Up to two decimals")
    currency: str = Field(description="ISO 4217 code, e.g. EUR")
    product: str = ""
    expected_close: date | None = None


class CloseIn(Schema):
    stage: Literal["won", "lost"]
    reason: str = ""


class OpportunityOut(Schema):
    id: int
    lead_id: int
    name: str
    value: Decimal
    currency: str
    product: str
    stage: str
    expected_close: date | None
    reason: str
    created_at: datetime
    closed_at: datetime | None


@leads_router.get("/{lead_id}/opportunities", response=answers(list[OpportunityOut], 404, 422),
                  summary="A lead's opportunities")
def list_opportunities(request, lead_id: int):
    return services.opportunities(get_visible_lead(request.user, lead_id))


@leads_router.post("/{lead_id}/opportunities",
                   response=answers({201: OpportunityOut}, 404, 413, 422),
                   summary="Open an opportunity")
def open_opportunity(request, lead_id: int, payload: OpportunityIn):
    lead = get_visible_lead(request.user, lead_id)
    opp = services.open_opportunity(
        lead, actor=request.user, name=payload.name, value=payload.value,
        currency=payload.currency, product=payload.product,
        expected_close=payload.expected_close, via=Event.Via.API)
    return Status(201, opp)


@leads_router.post("/{lead_id}/opportunities/{opportunity_id}/close",
                   response=answers(OpportunityOut, 404, 409, 413, 422),
                   summary="Mark an opportunity won (the lead becomes a customer) or lost")
def close_opportunity(request, lead_id: int, opportunity_id: int, payload: CloseIn):
    lead = get_visible_lead(request.user, lead_id)
    opp = services.get_opportunity(lead, opportunity_id)
    return services.close_opportunity(opp, payload.stage, actor=request.user,
                                      reason=payload.reason, via=Event.Via.API)
