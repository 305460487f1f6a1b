"""`leadflow import` writes the error report next to the file, or, when that folder is
read-only, under the data directory's imports/ folder; it prints the path either way."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

BAD_ROWS = "email,first_name\nana@example.com,Ana\nnope,Bo\n"


def test_report_goes_next_to_a_writable_file(tmp_path, leadflow_import):
    path = tmp_path / "leads.csv"
    path.write_text(BAD_ROWS)

    result = leadflow_import(str(path))

    assert result.returncode == 1
    assert f"error report: {tmp_path / 'leads.errors.csv'}" in result.stdout
    assert "nope" in (tmp_path / "leads.errors.csv").read_text()


def test_a_read_only_folder_sends_the_report_to_the_data_directory(tmp_path,
                                                                   leadflow_import):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "leads.csv").write_text(BAD_ROWS)
    read_only(inbox)
    try:
        result = leadflow_import(str(inbox / "leads.csv"))
    finally:
        writable(inbox)

    assert result.returncode == 1, result.stderr
    found = re.search(r"error report: (.+)", result.stdout)
    assert found, result.stdout
    report = Path(found[1])
    assert report.parent == tmp_path / "imports"  # the data directory of leadflow_import
    assert report.name.startswith("leads-") and report.name.endswith(".errors.csv")
    assert "nope" in report.read_text()
    assert os.listdir(inbox) == ["leads.csv"]


def read_only(folder: Path) -> None:
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root writes in a 0555 folder, not in an immutable one
        subprocess.run(["chattr", "+i", str(folder)], check=True)


def writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)
