"""The README's commands work as written in the `make run` setup: each command of
tests/e2e/readme_commands.sh is in README.md word for word, and runs against a `make run`
server (its data folder, another port) with `leadflow` on the PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, clean_env

# `make run` serves SQLite whatever DATABASE_URL says: the PostgreSQL pass skips these.
pytestmark = pytest.mark.make_run

COMMANDS_FILE = Path(__file__).with_name("readme_commands.sh")
SHARED_CSV = REPO.parent / "shared" / "data" / "x-education-leads" / "Leads.csv"


@dataclass
class Command:
    text: str
    exits: set[int] = field(default_factory=lambda: {0})
    expect: list[str] = field(default_factory=list)


def readme_commands() -> list[Command]:
    """The commands of the list, in order, with their directives."""
    commands = []
    for block in re.split(r"\n\s*\n", COMMANDS_FILE.read_text()):
        command = Command(text="")
        lines = []
        for line in block.splitlines():
            if line.startswith("# exit:"):
                command.exits = {int(n) for n in line.split(":", 1)[1].split(",")}
            elif line.startswith("# expect:"):
                command.expect.append(line.split(":", 1)[1].strip())
            elif not line.startswith("#"):
                lines.append(line)
        command.text = "\n".join(lines).strip()
        if command.text:
            commands.append(command)
    return commands


def _words(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def test_every_listed_command_is_in_the_readme_as_written():
    readme = _words((REPO / "README.md").read_text())
    missing = [c.text for c in readme_commands() if _words(c.text) not in readme]
    assert missing == [], ("commands listed in tests/e2e/readme_commands.sh but not in "
                           f"README.md (update the list with the README): {missing}")


def _workdir(root: Path) -> Path:
    """A folder laid out like the repository for the README's relative paths."""
    work = root / "work"
    work.mkdir()
    (work / "leadflow").symlink_to(REPO / "leadflow")
    (work / "leads.csv").write_text(
        "email,first_name,last_name,company_name,country,phone\n"
        "chloe.martin@atelier-lumiere.example,Chloé,Martin,Atelier Lumière,France,"
        "06 12 34 56 78\n"
        "jonas.weber@nordwind.example,Jonas,Weber,Nordwind Logistik,DE,+49 1512 3456789\n"
        "amelia.clarke@westbridge.example,Amelia,Clarke,Westbridge Consulting,UK,\n",
        encoding="utf-8")
    if SHARED_CSV.exists():  # a copy: the error report is written beside it
        shared = root / "shared" / "data" / "x-education-leads"
        shared.mkdir(parents=True)
        shutil.copy(SHARED_CSV, shared / "Leads.csv")
    return work


def test_readme_commands_work_in_the_make_run_setup(make_run, tmp_path):
    work = _workdir(tmp_path)
    env = clean_env(LEADFLOW_DATA_DIR=str(make_run.data_dir), TOKEN=make_run.credentials["token"])
    env["PATH"] = f"{make_run.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    failures = []
    for command in readme_commands():
        if "x-education-leads" in command.text and not SHARED_CSV.exists():
            continue  # the data set is beside the repository in CI, not everywhere
        text = (command.text.replace("http://127.0.0.1:8000", make_run.url)
                .replace("--user NAME", f"--user {make_run.credentials['username']}"))
        result = subprocess.run(["bash", "-c", text], cwd=work, env=env, capture_output=True,
                                text=True, timeout=300, check=False)
        output = result.stdout + result.stderr
        if result.returncode not in command.exits or any(
                e not in output for e in command.expect) or "Traceback" in output:
            failures.append(f"$ {command.text}\n(exit {result.returncode})\n{output[-2000:]}")
    assert failures == [], "\n\n".join(failures)
