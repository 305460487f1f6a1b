"""The stories' workers mode: two real `leadflow worker` processes on PostgreSQL and Redis
do the background work, as in production, while the test plays the people and the shops.

They follow the test's frozen clock through LEADFLOW_CLOCK_FILE (core.clock.share_file),
send to the test's SMTP server, take their tasks from a Redis database of their own (13:
the scale-out tests use 14) and get the settings the story changed (SHARED_SETTINGS).
`wait_idle()` is the mode's `story_kit.work()`: it returns once the database and the
queue say that nothing is due or in hand (`pending()`), never after a fixed sleep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Q

from leadflow.campaigns.models import Enrollment
from leadflow.core import clock
from leadflow.core.workqueue import WorkItem
from leadflow.emails.models import EmailMessage
from leadflow.scoring.models import ScoreGroup
from leadflow.segments.models import DirtyLead, Segment
from tests.workers import (
    WorkerProcess,
    redis_url,
    rq_queue,
    wait_registered,
    why_skip,
    worker_env,
    worker_processes,
)

REDIS_DB = 13
WORKER_NAMES = ("story-1", "story-2")
# Settings a story may change that the workers read, with the variable that sets them.
SHARED_SETTINGS = {"BASE_URL": "LEADFLOW_BASE_URL",
                   "MARKETING_BASIS": "LEADFLOW_MARKETING_BASIS"}
# How long the workers may take to do what one step of a story made due.
IDLE_TIMEOUT = 120.0
POLL = 0.1

WAITING_EMAIL = (EmailMessage.Status.QUEUED, EmailMessage.Status.SENDING)
SETTLED_EMAIL = (EmailMessage.Status.SENT, EmailMessage.Status.SKIPPED,
                 EmailMessage.Status.FAILED)


def _work(model: type[WorkItem]) -> Q | None:
    """Which rows of a kind of work a worker's periodic job claims once due (None: the
    job has nothing to do at all, e.g. no segment depends on time)."""
    name = model._meta.label
    if name == "campaigns.Enrollment":
        return Q(status=Enrollment.Status.ACTIVE, campaign__active=True)
    if name == "emails.EmailMessage":
        return Q(status__in=WAITING_EMAIL)
    if name in ("scoring.RescoreJob", "imports.ImportJob"):
        return Q(status__in=("queued", "running"))
    if name == "lists.Broadcast":
        return Q(status__in=("scheduled", "sending"))
    if name == "segments.Segment":  # its full rebuild
        return Q(build_state=Segment.BuildState.BUILDING)
    if name == "segments.SegmentClock":
        return Q() if Segment.objects.filter(active=True, time_dependent=True).exists() \
            else None
    if name == "scoring.DecayRun":
        return Q() if ScoreGroup.objects.filter(Q(inactivity_days__isnull=False)
                                                | Q(half_life_days__isnull=False)).exists() \
            else None
    if name == "emails.DnsCheck":
        return Q()
    if name == "sales.Task":  # its reminders
        return Q(done_at__isnull=True)
    if name == "webhooks.Delivery":
        return Q(status__in=("pending", "sending"))
    raise AssertionError(f"{name} is a kind of work story_workers does not know: say which "
                         "of its rows a worker claims (_work)")


# The jobs claimed through a single row, made by their first run.
_SINGLE_ROW = ("segments.SegmentClock", "scoring.DecayRun")


def pending(queue: redis.Redis) -> list[str]:
    """What the workers still have to do or are doing, in words; empty: idle. Read in one
    snapshot of the database (REPEATABLE READ), so that work moving from one table to
    another between two reads is not missed."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    found = []
    tasks = Queue("default", connection=queue)
    if queued := tasks.count:
        found.append(f"{queued} queued task(s)")
    if running := StartedJobRegistry(queue=tasks).count:
        found.append(f"{running} running task(s)")
    if later := ScheduledJobRegistry(queue=tasks).count:
        found.append(f"{later} scheduled task(s)")
    now = clock.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for model in apps.get_models():
            if not issubclass(model, WorkItem):
                continue
            rows = model._default_manager.all()
            label = model._meta.verbose_name_plural
            if held := rows.exclude(claimed_by="").count():
                found.append(f"{held} {label} claimed by a worker")
            which = _work(model)
            if which is None:
                continue
            due = rows.filter(which, **{f"{model.work_due_field}__lte": now}).count()
            if due:
                found.append(f"{due} {label} due")
            elif model._meta.label in _SINGLE_ROW and not rows.exists():
                found.append(f"{label}: first run due")
        # run_due_enrollments makes the send steps whose email is settled due first.
        if woken := Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, claimed_by="",
                                              next_run_at__gt=now,
                                              waiting_for__status__in=SETTLED_EMAIL).count():
            found.append(f"{woken} send steps whose email is settled")
        if dirty := DirtyLead.objects.count():
            found.append(f"{dirty} leads queued for the segment refresh")
    return found


class StoryWorkers:
    def __init__(self, processes: list[WorkerProcess], queue: redis.Redis):
        self.processes, self.queue = processes, queue

    def wait_idle(self, timeout: float = IDLE_TIMEOUT) -> None:
        """Until nothing is due or in hand, seen twice in a row: a task between Redis'
        queue and its started registry, for an instant, is in neither. A worker that
        logged an error fails the story (a periodic job's error is logged, not raised)."""
        deadline = time.monotonic() + timeout
        idle_once = False
        while True:
            self._alive()
            left = pending(self.queue)
            if not left:
                if idle_once:
                    self._no_errors()
                    return
                idle_once = True
            else:
                idle_once = False
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the workers were not idle after {timeout:.0f} s: {', '.join(left)} "
                    f"(clock at {clock.now().isoformat()})\n{self.logs()}")
            time.sleep(POLL)

    def _alive(self) -> None:
        for worker in self.processes:
            if worker.process.poll() is not None:
                raise AssertionError(f"worker {worker.name} exited:\n{worker.output()}")

    def _no_errors(self) -> None:
        for worker in self.processes:
            if any(" ERROR " in line or line.startswith("Traceback")
                   for line in worker.output().splitlines()):
                raise AssertionError(f"worker {worker.name} logged an error:\n"
                                     f"{worker.output()}")

    def logs(self, last: int = 60) -> str:
        return "\n".join(f"--- {w.name} (last {last} lines) ---\n"
                         + "\n".join(w.output().splitlines()[-last:])
                         for w in self.processes)


def seed_like_the_migrations() -> None:
    """The rows the migrations seed (stages, qualification reasons, the primary score
    group), which an earlier test's flush (transactional tests) deleted."""
    from leadflow.lifecycle.defaults import reason_rows, stage_rows
    from leadflow.lifecycle.models import QualificationReason, StageDefinition

    for row in stage_rows():
        StageDefinition.objects.get_or_create(slug=row["slug"], defaults=row)
    for row in reason_rows():
        QualificationReason.objects.get_or_create(code=row["code"], defaults=row)
    ScoreGroup.primary()


def skip_without_services(items: list[pytest.Item]) -> None:
    """Skip the workers mode's stories at collection when PostgreSQL or Redis is missing
    (before their transactional database is set up for nothing)."""
    if (reason := why_skip(REDIS_DB)) is None:
        return
    for item in items:
        if Path(item.fspath).name == "test_stories.py" and item.get_closest_marker("scaleout"):
            item.add_marker(pytest.mark.skip(reason=reason))


@contextmanager
def two_workers(settings: Any, smtp_port: int, folder: Path) -> Iterator[StoryWorkers]:
    """Two `leadflow worker` processes for one story (`settings`: pytest-django's fixture,
    as the story set it), following the test's clock; stopped when the block ends."""
    if reason := why_skip(REDIS_DB):
        pytest.skip(reason)
    seed_like_the_migrations()
    clock_file = folder / "clock.json"
    clock.share_file(clock_file)
    try:
        with rq_queue(settings, REDIS_DB) as queue, worker_processes(folder) as start:
            env = worker_env(smtp_port, REDIS_URL=redis_url(REDIS_DB),
                             LEADFLOW_TASK_BACKEND="rq", LEADFLOW_CLOCK_FILE=str(clock_file),
                             **{variable: str(getattr(settings, name))
                                for name, variable in SHARED_SETTINGS.items()})
            started = [start(name, env) for name in WORKER_NAMES]
            wait_registered(started, queue)
            workers = StoryWorkers(started, queue)
            try:
                yield workers
            finally:
                print(workers.logs(last=200))  # shown by pytest when the story failed
    finally:
        clock.share_file(None)
