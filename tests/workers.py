"""Real `leadflow worker` processes for the tests that need them (tests/scaleout, and the
stories of tests/e2e in their workers mode): PostgreSQL for the database they share with
the test, a Redis database of the test's own for their task queue.

The workers' environment is this process's own without its Leadflow settings, plus the
test database, the test's SMTP server and what the test adds (worker_env); each logs to a
file the test shows when something goes wrong.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from django.conf import settings as django_settings

from leadflow.server.tests.test_cli import leadflow_command


def redis_url(db: int) -> str:
    """REDIS_URL's server (default redis://127.0.0.1:6379), database `db`."""
    base = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((base.scheme, base.netloc, f"/{db}", "", ""))


def why_skip(db: int) -> str | None:
    """Why worker processes cannot run here (None: they can)."""
    if not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return "needs PostgreSQL (DATABASE_URL=postgres://...)"
    url = redis_url(db)
    if urlsplit(url).scheme not in ("redis", "rediss"):
        return "needs REDIS_URL to be a redis:// URL"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"needs Redis at {url} ({exc})"
    return None


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def rq_queue(settings, db: int) -> Iterator[redis.Redis]:
    """django.tasks goes through django_tasks_rq to Redis database `db` (`settings` is
    pytest-django's fixture), emptied before and after."""
    url = redis_url(db)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend",
                                  "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": url, "DEFAULT_TIMEOUT": 600}}
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    try:
        yield conn
    finally:
        conn.flushdb()
        conn.close()


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def worker_env(smtp_port: int, **more: str) -> dict[str, str]:
    """The environment of a `leadflow worker` on the test database: this process's own,
    without its Leadflow settings, plus the test's SMTP server and `more`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LEADFLOW_", "DATABASE_URL", "REDIS_URL", "PYTEST"))}
    env.update(DATABASE_URL=database_url(), LEADFLOW_SMTP_HOST="127.0.0.1",
               LEADFLOW_SMTP_PORT=str(smtp_port),
               LEADFLOW_SECRET_KEY=django_settings.SECRET_KEY, LEADFLOW_WORKER_TICK="1",
               LEADFLOW_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1", **more)
    return env


@contextmanager
def worker_processes(log_dir: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """`start(name, env)` starts a `leadflow worker` logging to log_dir/<name>.log; every
    one still running is stopped (SIGTERM, then SIGKILL) when the block ends."""
    started: list[WorkerProcess] = []

    def start(name: str, env: dict[str, str]) -> WorkerProcess:
        log = log_dir / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen([*leadflow_command(), "worker", "--name", name],
                                       env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append(WorkerProcess(name, process, log))
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                worker.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


def wait_registered(started: list[WorkerProcess], conn: redis.Redis) -> None:
    """Until every started worker is registered in Redis (waiting for tasks); a worker
    that exits meanwhile fails the test with its output."""
    from rq import Worker as RQWorker

    def registered() -> bool:
        for worker in started:
            if worker.process.poll() is not None:
                raise AssertionError(f"{worker.name} exited:\n{worker.output()}")
        names = {w.name for w in RQWorker.all(connection=conn)}
        return names >= {w.name for w in started}

    wait_until(registered, 60, "the workers to register in Redis")


def database_url() -> str:
    """The URL of the test database (the workers' DATABASE_URL)."""
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"
