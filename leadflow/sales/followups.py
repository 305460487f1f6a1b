"""Tasks on leads and their reminders. A task is for one person (its assignee), due at a
time; the assignee is told in the app and by email `remind_before` minutes before (if
set) and at the due time. Reminders are background work claimed through core.workqueue
by the periodic tick (`send_due_reminders`, wired in server), so they fire to the minute
whichever worker ticks, once each (the notification's dedupe key), even after a crash.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import may_assign_to, may_see_lead, scoped
from leadflow.core import clock, workqueue
from leadflow.core.errors import InvalidInput, NotFound
from leadflow.leads.models import Lead
from leadflow.notifications.models import Notification
from leadflow.notifications.services import notify
from leadflow.sales.models import Task
from leadflow.sales.services import _text, check_lead, moment

if TYPE_CHECKING:
    from leadflow.accounts.models import User

MAX_REMIND_BEFORE = 7 * 24 * 60  # minutes
BATCH = 500
LEASE = timedelta(minutes=2)


def _next_reminder(task: Task, now: datetime) -> datetime | None:
    """The first reminder still ahead: the early one if set and not past, else the due
    time itself; none for a task done or already past due when written."""
    if task.done_at is not None or task.due_at <= now:
        return None
    early = task.due_at - timedelta(minutes=task.remind_before)
    return early if task.remind_before and early > now else task.due_at


def _check_assignee(actor: User, assignee: User, lead: Lead) -> None:
    if assignee.pk != actor.pk and not may_assign_to(actor, assignee):
        raise InvalidInput(_("You may not give a task to %(who)s.") % {"who": assignee},
                           field="assignee")
    if not may_see_lead(assignee, owner_id=lead.owner_id, team_id=lead.team_id):
        raise InvalidInput(_("%(who)s may not see this lead.") % {"who": assignee},
                           field="assignee")


def _remind_before(minutes: int) -> int:
    if not 0 <= minutes <= MAX_REMIND_BEFORE:
        raise InvalidInput(_("Remind from 0 to %(n)s minutes before.")
                           % {"n": MAX_REMIND_BEFORE}, field="remind_before")
    return minutes


def create_task(lead: Lead, *, actor: User, title: str, due_at: datetime,
                assignee: User | None = None, remind_before: int = 0) -> Task:
    """A task on `lead` for `assignee` (the actor by default; another person only as
    `may_assign_to` allows, and who sees the lead), due at `due_at`."""
    check_lead(lead, actor)
    assignee = assignee or actor
    _check_assignee(actor, assignee, lead)
    now = clock.now()
    task = Task(lead=lead, title=_text(title, "title", 200, required=True), assignee=assignee,
                due_at=moment(due_at, "due_at"), remind_before=_remind_before(remind_before),
                created_by=actor, created_at=now)
    task.remind_at = _next_reminder(task, now)
    task.save()
    return task


@transaction.atomic
def update_task(task: Task, *, actor: User, done: bool | None = None, title: str | None = None,
                due_at: datetime | None = None, remind_before: int | None = None,
                assignee: User | None = None) -> Task:
    """Change a task: mark it done or not done, rename, reschedule (its reminders follow),
    or hand it to another person. Precondition: the actor may change its lead."""
    task = Task.objects.select_for_update().select_related("lead").get(pk=task.pk)
    check_lead(task.lead, actor)
    now = clock.now()
    if title is not None:
        task.title = _text(title, "title", 200, required=True)
    if assignee is not None and assignee.pk != task.assignee_id:
        _check_assignee(actor, assignee, task.lead)
        task.assignee = assignee
    if remind_before is not None:
        task.remind_before = _remind_before(remind_before)
    if due_at is not None:
        task.due_at = moment(due_at, "due_at")
    if done is not None:
        task.done_at = (task.done_at or now) if done else None
    task.remind_at = _next_reminder(task, now)
    # A reminder being sent right now keeps its claim out of the way: the new schedule wins.
    task.claimed_by, task.attempts = "", 0
    task.save()
    return task


def tasks_of(lead: Lead) -> QuerySet[Task]:
    """The lead's tasks, open ones first, soonest due first."""
    return (Task.objects.filter(lead=lead).select_related("assignee")
            .order_by(F("done_at").asc(nulls_first=True), "due_at", "pk"))


def my_tasks(user: User, *, done: bool = False) -> QuerySet[Task]:
    """`user`'s tasks on leads they still see, open ones by default: soonest due first, so
    the overdue come first."""
    leads = scoped(Lead.objects.filter(erased_at__isnull=True), user).values("pk")
    return (Task.objects.filter(assignee=user, done_at__isnull=not done, lead__in=leads)
            .select_related("lead").order_by("due_at", "pk"))


def get_task(user: User, task_id: int, lead: Lead | None = None) -> Task:
    """A task on a lead `user` sees (NotFound otherwise: its lead is not revealed)."""
    tasks = Task.objects.filter(lead__in=scoped(
        Lead.objects.filter(erased_at__isnull=True), user).values("pk"))
    if lead is not None:
        tasks = tasks.filter(lead=lead)
    task = (tasks.select_related("lead", "assignee").filter(pk=task_id).first()
            if 0 < task_id < 2**63 else None)
    if task is None:
        raise NotFound(_("No task #%(id)s (or you may not see it).") % {"id": task_id})
    return task


def send_due_reminders(worker: str = "") -> int:
    """Periodic job: tell the assignees of the tasks whose reminder is due, a batch at a
    time, in a constant number of queries per batch. Returns how many were told."""
    told = 0
    while True:
        claim = workqueue.claim(Task.objects.filter(done_at__isnull=True), limit=BATCH,
                                lease=LEASE, worker=worker,
                                exhausted=lambda c: workqueue.done(c, c.ids))
        if not claim:
            return told
        try:
            told += _remind(claim)
        except Exception as exc:  # retried with backoff; the dedupe key keeps it once
            for pk in claim.ids:
                workqueue.retry(claim, pk, repr(exc), final={"remind_at": None})
            raise
        if len(claim.ids) < BATCH:
            return told


@transaction.atomic
def _remind(claim: workqueue.Claim) -> int:
    now = clock.now()
    tasks = list(Task.objects.filter(pk__among=claim.ids, claimed_by=claim.token,
                                     lead__erased_at__isnull=True)
                 .select_related("lead", "assignee"))
    notes = []
    early = []
    for task in tasks:
        when = "soon" if task.due_at > now else "due"
        if when == "soon":
            early.append(task.pk)
        if not task.assignee.is_active:
            continue
        notes.append(Notification(
            kind=Notification.Kind.TASK, user=task.assignee, lead=task.lead, created_at=now,
            dedupe_key=f"task:{task.pk}:{when}:{task.due_at.isoformat()}"[:120],
            payload={"task_id": task.pk, "title": task.title, "when": when,
                     "due_at": task.due_at.isoformat()}))
    told = notify(notes)
    # The early reminder done, the due-time one is next; every other row is finished.
    if early:
        Task.objects.filter(pk__among=early, claimed_by=claim.token).update(
            remind_at=F("due_at"), claimed_by="")
    workqueue.done(claim, [pk for pk in claim.ids if pk not in set(early)])
    return told
