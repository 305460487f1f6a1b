"""Two real `leadflow worker` processes against PostgreSQL and Redis (run by .ci/run).

Skipped unless the test database is PostgreSQL and Redis answers at REDIS_URL
(default redis://127.0.0.1:6379/0). The workers use their own Redis database (14 on the
same server), emptied before and after, so that no other queue is touched. The processes
themselves: tests/workers.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.workers import (
    WorkerProcess,
    redis_url,
    rq_queue,
    wait_registered,
    why_skip,
    worker_env,
    worker_processes,
)

REDIS_DB = 14
WORKER_NAMES = ("scaleout-1", "scaleout-2")


def pytest_collection_modifyitems(config, items):
    reason = why_skip(REDIS_DB)
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def rq_redis(settings) -> Iterator[redis.Redis]:
    """django.tasks goes through django_tasks_rq to a Redis database of its own."""
    with rq_queue(settings, REDIS_DB) as conn:
        yield conn


@pytest.fixture
def workers(transactional_db, smtp_server, settings, rq_redis, tmp_path) -> Iterator[
        list[WorkerProcess]]:
    """Two `leadflow worker` processes on the test database, the test SMTP server and the
    test Redis database; both registered and waiting when the test starts."""
    env = worker_env(settings.MAILERS["default"]["OPTIONS"]["port"],
                     REDIS_URL=redis_url(REDIS_DB), LEADFLOW_TASK_BACKEND="rq",
                     # Batches smaller than the work, and sends that take a little time
                     # (as with a remote SMTP server), so that one worker's tick does not
                     # finish it all before the other looks. (The campaign engine claims
                     # 500 memberships at once and passes its `campaign.step` failpoint
                     # once per batch: one worker takes all 200 steps in one go.)
                     LEADFLOW_EMAIL_BATCH="20",
                     LEADFLOW_FAILPOINT="email.after_smtp:sleep=0.02")
    with worker_processes(tmp_path) as start:
        started = [start(name, env) for name in WORKER_NAMES]
        wait_registered(started, rq_redis)
        yield started
