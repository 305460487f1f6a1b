"""The one clock: real time by default; tests move it with travel() and advance(), and
share it with worker processes through LEADFLOW_CLOCK_FILE."""

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leadflow.core import clock
from leadflow.server.tests.test_cli import cli_env, run_cli

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_now_is_the_system_time_by_default():
    before = timezone.now()
    now = clock.now()
    after = timezone.now()
    assert before <= now <= after
    assert now.tzinfo is not None


def test_travel_freezes_time_at_the_given_moment():
    with clock.travel(T0):
        assert clock.now() == T0
        assert clock.now() == T0


def test_travel_without_a_moment_freezes_the_current_time():
    before = timezone.now()
    with clock.travel():
        frozen = clock.now()
        assert clock.now() == frozen
    assert before <= frozen


def test_travel_restores_the_real_clock_after_the_block():
    with clock.travel(T0):
        pass
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_travel_restores_the_clock_when_the_block_raises():
    with pytest.raises(RuntimeError), clock.travel(T0):
        raise RuntimeError("boom")
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_travel_unfrozen_starts_at_the_moment_and_keeps_running():
    with clock.travel(T0, freeze=False):
        first = clock.now()
        second = clock.now()
    assert T0 <= first <= second
    assert first - T0 < timedelta(hours=1)  # it started at T0, not at the real time


def test_advance_moves_a_frozen_clock_exactly():
    with clock.travel(T0):
        clock.advance(timedelta(days=2))
        assert clock.now() == T0 + timedelta(days=2)
        clock.advance(timedelta(hours=-1))
        assert clock.now() == T0 + timedelta(days=2, hours=-1)


def test_advance_moves_the_running_clock_forward():
    before = timezone.now()
    clock.advance(timedelta(days=3))
    now = clock.now()
    assert before + timedelta(days=3) <= now <= timezone.now() + timedelta(days=3)


def test_nested_travel_restores_the_outer_time():
    with clock.travel(T0):
        with clock.travel(T0 + timedelta(days=30)):
            assert clock.now() == T0 + timedelta(days=30)
        assert clock.now() == T0


def test_advance_inside_travel_is_undone_when_the_block_ends():
    clock.advance(timedelta(days=10))
    offset_now = clock.now()
    with clock.travel(T0):
        clock.advance(timedelta(days=1))
    assert clock.now() >= offset_now  # the outer offset of 10 days is back


def test_reset_returns_to_the_system_time():
    clock.advance(timedelta(days=365))
    clock.reset()
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


# --- worker processes follow a test's clock through LEADFLOW_CLOCK_FILE -------------------

FOLLOWER = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "leadflow.settings"
import django
django.setup()
from leadflow.core import clock
for _ in sys.stdin:
    print(clock.now().isoformat(), flush=True)
"""


class Follower:
    """A Python process started with LEADFLOW_CLOCK_FILE, as a worker is: it prints its
    clock.now() each time it is asked."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen([sys.executable, "-c", FOLLOWER], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def now(self) -> datetime:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write("now\n")
        self.process.stdin.flush()
        return datetime.fromisoformat(self.process.stdout.readline().strip())

    def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def follower(tmp_path) -> Iterator[tuple[Path, Follower]]:
    path = tmp_path / "clock.json"
    process = Follower(cli_env(tmp_path, LEADFLOW_CLOCK_FILE=str(path)))
    try:
        yield path, process
    finally:
        clock.share_file(None)
        process.stop()


def test_a_worker_process_follows_the_clock_the_test_shares(follower):
    path, worker = follower
    before = timezone.now()
    assert before <= worker.now() <= timezone.now()  # no file yet: the system clock
    clock.share_file(path)
    with clock.travel(T0):
        assert worker.now() == T0
        clock.advance(timedelta(days=30))
        assert worker.now() == T0 + timedelta(days=30)
        # Changes closer together than the file system's timestamps are each seen.
        for second in range(1, 6):
            clock.advance(timedelta(seconds=1))
            assert worker.now() == T0 + timedelta(days=30, seconds=second)
    before = timezone.now()
    assert before <= worker.now() <= timezone.now()  # the block ended: the real time again


def test_a_worker_process_follows_a_running_clock_moved_forward(follower):
    path, worker = follower
    clock.share_file(path)
    clock.advance(timedelta(days=3))
    before = timezone.now() + timedelta(days=3)
    assert before <= worker.now() <= timezone.now() + timedelta(days=3)


def test_a_clock_file_in_no_folder_is_refused_at_start_up(tmp_path):
    result = run_cli(["migrate"], cli_env(tmp_path, LEADFLOW_CLOCK_FILE="clock.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("leadflow: error: LEADFLOW_CLOCK_FILE must be an absolute "
                                     "path in an existing folder, not 'clock.json'")


def test_a_clock_file_that_is_not_one_is_refused_at_start_up(tmp_path):
    (tmp_path / "clock.json").write_text("next tuesday")
    result = run_cli(["migrate"], cli_env(tmp_path,
                                          LEADFLOW_CLOCK_FILE=str(tmp_path / "clock.json")))
    assert result.returncode == 2
    assert "LEADFLOW_CLOCK_FILE: " in result.stderr
    assert "is not a clock file written by clock.share_file" in result.stderr
    assert "Traceback" not in result.stderr
