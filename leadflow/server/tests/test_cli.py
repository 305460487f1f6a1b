"""The `leadflow` command: in-process for the Django-side behaviour, as the installed console
script (a real subprocess on its own SQLite file) for start-up, errors and signals."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from leadflow import cli
from leadflow.accounts.models import ApiToken, User

COMMANDS = ["serve", "worker", "migrate", "createadmin", "token", "import", "demo", "manage"]


def leadflow_command() -> list[str]:
    script = Path(sys.executable).with_name("leadflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "leadflow.cli"]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `leadflow` subprocess: its own SQLite file, no test settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LEADFLOW_", "DATABASE_URL", "REDIS_URL", "PYTEST"))}
    env.update(DATABASE_URL=f"sqlite:///{data_dir / 'leadflow.sqlite3'}",
               LEADFLOW_DATA_DIR=str(data_dir), LEADFLOW_SECRET_KEY="cli-test-secret-key",
               LEADFLOW_TASK_BACKEND="db", LEADFLOW_LOG_LEVEL="WARNING")
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*leadflow_command(), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False, **kw)


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> Path:
    """A SQLite file with every migration applied, made once by `leadflow migrate`."""
    data_dir = tmp_path_factory.mktemp("migrated")
    result = run_cli(["migrate"], cli_env(data_dir))
    assert result.returncode == 0, result.stderr
    return data_dir / "leadflow.sqlite3"


@pytest.fixture
def cli_data_dir(tmp_path: Path, migrated_db: Path) -> Path:
    """A fresh copy of the migrated database for one test."""
    shutil.copy(migrated_db, tmp_path / "leadflow.sqlite3")
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", [*COMMANDS, "token create"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command.split(), "--help"])
    assert exit_.value.code == 0
    assert f"usage: leadflow {command}" in capsys.readouterr().out


def test_token_create_prints_a_working_token(make_user, capsys):
    make_user("alice")
    assert cli.main(["token", "create", "--user", "alice", "--name", "crm-sync"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("lf_")
    assert ApiToken.objects.get(user__username="alice").name == "crm-sync"
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_unknown_user_exits_2_with_a_message(db, capsys):
    assert cli.main(["token", "create", "--user", "nobody"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "leadflow: error: No user named 'nobody'."


def test_createadmin_takes_the_password_from_the_environment(db, monkeypatch, capsys):
    monkeypatch.setenv("LEADFLOW_ADMIN_PASSWORD", "a-long-unusual-passphrase")
    assert cli.main(["createadmin", "--username", "root", "--email", "r@example.com"]) == 0
    user = User.objects.get(username="root")
    assert user.is_superuser and user.check_password("a-long-unusual-passphrase")


def test_createadmin_refuses_a_weak_password(db, capsys):
    assert cli.main(["createadmin", "--username", "root", "--password", "123"]) == 2
    assert "password rejected" in capsys.readouterr().err
    assert not User.objects.filter(username="root").exists()


def test_console_script_migrates_creates_an_admin_and_a_token(cli_data_dir):
    env = cli_env(cli_data_dir, LEADFLOW_ADMIN_PASSWORD="correct-horse-battery")
    assert run_cli(["migrate"], env).returncode == 0  # already applied: a no-op
    created = run_cli(["createadmin", "--username", "ops"], env)
    assert created.returncode == 0, created.stderr
    token = run_cli(["token", "create", "--user", "ops"], env)
    assert token.returncode == 0, token.stderr
    check = run_cli(["manage", "shell", "-v", "0", "-c",
                     "from leadflow.accounts.services import user_for_token; "
                     f"print(user_for_token({token.stdout.strip()!r}).username)"], env)
    assert check.stdout.strip() == "ops", check.stderr


def test_console_script_reports_a_bad_setting_without_a_traceback(cli_data_dir):
    result = run_cli(["migrate"], cli_env(cli_data_dir, LEADFLOW_TASK_BACKEND="celery"))
    assert result.returncode == 2
    assert result.stderr.startswith("leadflow: error: LEADFLOW_TASK_BACKEND must be one of")
    assert "Traceback" not in result.stderr


def test_serve_answers_and_stops_cleanly_on_sigterm(cli_data_dir):
    with _serving(cli_data_dir, "--with-worker", LEADFLOW_LOG_LEVEL="INFO") as (server, port):
        _wait_for(lambda: _answers(port) or server.poll() is not None, "an answer")
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "worker" in output and "stopped" in output
    assert "Traceback" not in output


@contextlib.contextmanager
def _serving(data_dir: Path, *args: str, **env: str):
    """`leadflow serve` on a free port, as a subprocess killed at the end if still running."""
    port = free_port()
    server = subprocess.Popen([*leadflow_command(), "serve", "--port", str(port), *args],
                              env=cli_env(data_dir, **env), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _children(pid: int) -> set[int]:
    """The ids of the processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _wait_for(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)
    return result


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",  # noqa: S310
                                    timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.skipif(not hasattr(os, "fork"), reason="several processes need fork()")
def test_serve_with_processes_replaces_a_killed_one_and_stops_them_all(cli_data_dir):
    with _serving(cli_data_dir, "--processes", "2") as (server, port):
        _wait_for(lambda: _answers(port), "an answer")
        first = _wait_for(lambda: len(_children(server.pid)) == 2 and _children(server.pid),
                          "two server processes")
        killed = min(first)
        os.kill(killed, signal.SIGKILL)
        now = _wait_for(lambda: (c := _children(server.pid)) - first and len(c) == 2 and c,
                        "a replacement")
        assert killed not in now
        assert _answers(port)
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "2 processes" in output and "stopped" in output
    assert "Traceback" not in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in now)
