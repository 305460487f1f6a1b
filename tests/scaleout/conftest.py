"""Two real `leadflow worker` processes against PostgreSQL and Redis (run by .ci/run).

Skipped unless the test database is PostgreSQL and Redis answers at REDIS_URL
(default redis://127.0.0.1:6379/0). The workers use their own Redis database (14 on the
same server), emptied before and after, so that no other queue is touched.
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

import pytest
import redis
from django.conf import settings as django_settings

from leadflow.server.tests.test_cli import leadflow_command

REDIS_DB = 14
WORKER_NAMES = ("scaleout-1", "scaleout-2")


def _redis_url() -> str:
    base = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit((base.scheme, base.netloc, f"/{REDIS_DB}", "", ""))


def _why_skip() -> str | None:
    if not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return "needs PostgreSQL (DATABASE_URL=postgres://...)"
    if urlsplit(_redis_url()).scheme not in ("redis", "rediss"):
        return "needs REDIS_URL to be a redis:// URL"
    try:
        redis.Redis.from_url(_redis_url(), socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"needs Redis at {_redis_url()} ({exc})"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _why_skip()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def rq_redis(settings) -> Iterator[redis.Redis]:
    """django.tasks goes through django_tasks_rq to a Redis database of its own."""
    url = _redis_url()
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
    env.update(DATABASE_URL=_database_url(), LEADFLOW_SMTP_HOST="127.0.0.1",
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


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def workers(transactional_db, smtp_server, settings, rq_redis, tmp_path) -> Iterator[
        list[WorkerProcess]]:
    """Two `leadflow worker` processes on the test database, the test SMTP server and the
    test Redis database; both registered and waiting when the test starts."""
    from rq import Worker as RQWorker

    env = worker_env(settings.MAILERS["default"]["OPTIONS"]["port"], REDIS_URL=_redis_url(),
                     LEADFLOW_TASK_BACKEND="rq",
                     # Batches smaller than the work, and campaign steps that take a little
                     # time (as real ones with a remote SMTP server do), so that one
                     # worker's tick does not finish it all before the other looks.
                     LEADFLOW_EMAIL_BATCH="20",
                     LEADFLOW_FAILPOINT="campaign.step:sleep=0.02")
    with worker_processes(tmp_path) as start:
        started = [start(name, env) for name in WORKER_NAMES]

        def registered() -> bool:
            for worker in started:
                if worker.process.poll() is not None:
                    raise AssertionError(f"{worker.name} exited:\n{worker.output()}")
            names = {w.name for w in RQWorker.all(connection=rq_redis)}
            return names >= set(WORKER_NAMES)

        wait_until(registered, 60, "both workers to register in Redis")
        yield started
