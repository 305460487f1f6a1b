"""The background worker: queued tasks (django.tasks) plus the periodic tick.

One `Worker` does two kinds of work in one loop:

* the task queue of the configured django.tasks backend: `django_tasks_db` (tasks are
  rows, claimed with SELECT ... FOR UPDATE SKIP LOCKED) or `django_tasks_rq` (tasks are RQ
  jobs in Redis, run in this thread by an RQ SimpleWorker, so Django's database
  connections are never shared with a forked child);
* every `settings.WORKER_TICK_SECONDS`, `leadflow.core.periodic.tick()`, which claims due
  time-based work (campaign waits, ...) atomically.

Any number of workers may run at once, in any number of processes. The same class runs as
the main loop (`leadflow worker`), in a thread beside the web server
(`leadflow serve --with-worker`), or once (`leadflow worker --once`, tests).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections as _close_old_connections
from django.db import connection
from django.db.utils import OperationalError
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from leadflow.core import periodic

if TYPE_CHECKING:
    from rq.job import Job
    from rq.queue import Queue

log = logging.getLogger(__name__)

# How long an idle worker waits for new tasks before looking again (seconds). The RQ
# source blocks on Redis for this long, so a task starts as soon as it is queued.
POLL_SECONDS = 1
# Tasks run before the loop looks at the clock again for the periodic tick.
BATCH = 50
# Pause after an unexpected error (database or Redis unreachable) before trying again.
ERROR_PAUSE = 5


def close_old_connections() -> None:
    """Drop broken or expired database connections between tasks, as Django does between
    requests; not inside a transaction someone else opened (a test, a caller's atomic)."""
    if not connection.in_atomic_block:
        _close_old_connections()


def default_name() -> str:
    return f"{socket.gethostname()}.{os.getpid()}"


class WorkerError(Exception):
    """The worker cannot start (e.g. its name is taken); the message says why."""


class _Source:
    """A queue of tasks the worker takes from."""

    label = "none"

    def open(self) -> None:
        """Called once, in the thread that will run the tasks."""

    def close(self) -> None:
        """Called once, at the end, in the same thread."""

    def run_ready(self, limit: int, stopping: threading.Event) -> int:
        """Run up to `limit` tasks that are ready now (fewer once `stopping` is set);
        returns how many ran."""
        return 0

    def wait(self, seconds: float, stopping: threading.Event) -> int:
        """Idle for up to `seconds` (less when stopping); may run a task that arrives."""
        stopping.wait(seconds)
        return 0


class _DatabaseSource(_Source):
    """Tasks stored by django_tasks_db; claimed one by one like its `db_worker` does."""

    label = "database"

    def __init__(self, backend: Any, worker_id: str):
        from django_tasks_db.management.commands.db_worker import Worker as DbWorker

        self.backend = backend
        self.queues = sorted(backend.queues) or ["default"]
        # Reused for its run_task(): runs the task and records success or failure.
        self._runner = DbWorker(queue_names=self.queues, interval=0, batch=True,
                                backend_name=backend.alias, startup_delay=False,
                                max_tasks=None, worker_id=worker_id[:64],
                                excluded_queue_names=[])
        self.worker_id = worker_id[:64]

    def run_ready(self, limit: int, stopping: threading.Event) -> int:
        from django_tasks_db.models import DBTaskResult
        from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

        done = 0
        while done < limit and not stopping.is_set():
            close_old_connections()
            ready = DBTaskResult.objects.ready().filter(backend_name=self.backend.alias,
                                                        queue_name__in=self.queues)
            try:
                with exclusive_transaction(ready.db):
                    result = ready.get_locked()
                    if result is not None:
                        result.claim(self.worker_id)
            except OperationalError as exc:
                if is_locked_database_exception(exc):  # SQLite busy: try again later
                    return done
                raise
            if result is None:
                return done
            log.debug("running task %s (%s)", result.id, result.task_path)
            self._runner.run_task(result)
            done += 1
        close_old_connections()
        return done


class _RQSource(_Source):
    """Jobs queued in Redis by django_tasks_rq, run in this thread by an RQ SimpleWorker."""

    label = "rq"

    def __init__(self, backend: Any, name: str):
        self.backend = backend
        self.name = name
        self.worker: Any = None

    def open(self) -> None:
        import django_rq
        from django_tasks_rq.backend import Job
        from redis.exceptions import RedisError
        from rq.timeouts import TimerDeathPenalty
        from rq.worker import SimpleWorker

        class LeadflowRQWorker(SimpleWorker):
            """Leaves signals to the Leadflow worker (it may run outside the main thread)."""

            def _install_signal_handlers(self) -> None:
                pass

            def subscribe(self) -> None:
                # RQ's listener thread waits up to 60 s for a message while holding the
                # connection, and unsubscribing at stop waits for it: a worker asked to
                # stop hung for up to a minute. Listening a second at a time, it stops
                # within one.
                self.pubsub = self.connection.pubsub()
                self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
                self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
                    sleep_time=1, daemon=True,
                    exception_handler=self._pubsub_exception_handler)

        queues = [django_rq.get_queue(name, job_class=Job)
                  for name in sorted(self.backend.queues) or ["default"]]
        if threading.current_thread() is not threading.main_thread():
            # Job timeouts by SIGALRM only work in the main thread.
            LeadflowRQWorker.death_penalty_class = TimerDeathPenalty
        try:
            self.worker = LeadflowRQWorker(queues, name=self.name,
                                           connection=queues[0].connection, job_class=Job)
            self.worker.bootstrap(logging_level=None)
        except ValueError as exc:  # "There exists an active worker named ... already"
            raise WorkerError(
                f"Another worker named {self.name!r} is registered in Redis. Choose another "
                "--name, or wait a few minutes if that worker died.") from exc
        except RedisError as exc:
            raise WorkerError(f"Redis does not answer ({settings.REDIS_URL}): {exc}") from exc

    def close(self) -> None:
        if self.worker is not None:
            self.worker.teardown()
            self.worker = None

    def _run(self, job: Job, queue: Queue) -> None:
        close_old_connections()
        try:
            self.worker.execute_job(job, queue)
            self.worker.heartbeat()
        finally:
            close_old_connections()

    def run_ready(self, limit: int, stopping: threading.Event) -> int:
        done = 0
        while done < limit and not stopping.is_set():
            if self.worker.should_run_maintenance_tasks:
                self.worker.run_maintenance_tasks()
            found = self.worker.dequeue_job_and_maintain_ttl(None)  # None: do not block
            if found is None:
                break
            self._run(*found)
            done += 1
        return done

    def wait(self, seconds: float, stopping: threading.Event) -> int:
        if stopping.is_set():
            return 0
        wait = max(1, round(seconds))
        # Blocks on Redis (BLPOP) so that a new job starts at once.
        found = self.worker.dequeue_job_and_maintain_ttl(wait, max_idle_time=wait)
        if found is None:
            return 0
        self._run(*found)
        return 1


def _source_for(backend: Any, name: str) -> _Source:
    from django_tasks_db.backend import DatabaseBackend

    if isinstance(backend, DatabaseBackend):
        return _DatabaseSource(backend, name)
    if type(backend).__module__.startswith("django_tasks_rq"):
        return _RQSource(backend, name)
    # The immediate backend runs tasks when they are enqueued: only the tick is left.
    return _Source()


class Worker:
    """Runs queued tasks and the periodic tick until stopped.

    `run()` loops in the calling thread; `start()` runs the loop in a daemon thread;
    `stop()` asks the loop to finish its current task and return (and joins the thread);
    `run_once()` runs everything queued or due now, then returns.
    """

    def __init__(self, name: str | None = None, *, tick_seconds: float | None = None,
                 poll_seconds: float = POLL_SECONDS,
                 backend_alias: str = DEFAULT_TASK_BACKEND_ALIAS):
        self.name = name or default_name()
        self.tick_seconds = float(tick_seconds or settings.WORKER_TICK_SECONDS)
        self.poll_seconds = poll_seconds
        self.backend_alias = backend_alias
        self.tasks_run = 0
        self.periodic_done = 0
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_tick = 0.0

    # -- control -----------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Run the loop in a background (daemon) thread; returns the thread."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("this worker is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run_logged, name=f"worker-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self._thread

    def wait_started(self, timeout: float) -> bool:
        """Wait until the loop has started (or failed to): `leadflow serve` prints its
        banner after the worker's own start-up lines."""
        return self._started.wait(timeout)

    def stop(self, timeout: float | None = 60) -> bool:
        """Ask the loop to stop after its current task; wait for the thread (if any).

        Returns False when the thread was still busy after `timeout` seconds.
        """
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- loops -------------------------------------------------------------------------

    def _source(self) -> _Source:
        return _source_for(task_backends[self.backend_alias], self.name)

    def _run_logged(self) -> None:
        try:
            self.run()
        except WorkerError as exc:
            log.error("worker %s could not start: %s", self.name, exc)
        except Exception:
            log.exception("worker %s crashed", self.name)
        finally:
            self._started.set()

    def run(self) -> None:
        """Loop until stop(): queued tasks as they come, the periodic tick on time."""
        source = self._source()
        source.open()
        log.info("worker %s started (tasks: %s, tick every %ss)", self.name, source.label,
                 self.tick_seconds)
        self._started.set()
        try:
            while not self._stopping.is_set():
                try:
                    self._step(source)
                except Exception:  # e.g. the database restarting: wait, then go on
                    log.exception("worker %s: error, retrying in %ss", self.name, ERROR_PAUSE)
                    close_old_connections()
                    self._stopping.wait(ERROR_PAUSE)
        finally:
            source.close()
            close_old_connections()
            log.info("worker %s stopped (%d tasks, %d periodic items)", self.name,
                     self.tasks_run, self.periodic_done)

    def _step(self, source: _Source) -> None:
        worked = self._run_tasks(source, BATCH)
        if time.monotonic() >= self._next_tick and not self._stopping.is_set():
            worked += self._tick()
            self._next_tick = time.monotonic() + self.tick_seconds
        if not worked and not self._stopping.is_set():
            wait = min(self.poll_seconds, max(0.0, self._next_tick - time.monotonic()))
            self.tasks_run += source.wait(max(wait, 0.05), self._stopping)

    def run_once(self, max_rounds: int = 100) -> int:
        """Run every task that is queued and every periodic item that is due, repeating
        while one produces work for the other; returns how much was done."""
        source = self._source()
        source.open()
        total = 0
        try:
            for _ in range(max_rounds):
                done = self._run_tasks(source, 10_000) + self._tick()
                total += done
                if not done:
                    break
        finally:
            source.close()
            close_old_connections()
        return total

    def _run_tasks(self, source: _Source, limit: int) -> int:
        done = source.run_ready(limit, self._stopping)
        if done:
            self.tasks_run += done
            log.info("worker %s ran %d queued task(s)", self.name, done)
        return done

    def _tick(self) -> int:
        done = periodic.tick(worker=self.name)
        if done:
            self.periodic_done += done
            log.info("worker %s: periodic jobs did %d item(s)", self.name, done)
        return done
