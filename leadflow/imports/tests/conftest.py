from pathlib import Path

import pytest

# The real `leadflow` command in a subprocess, on its own migrated SQLite file.
from leadflow.server.tests.test_cli import cli_data_dir, cli_env, migrated_db, run_cli

__all__ = ["cli_data_dir", "migrated_db"]  # fixtures, used by name

X_EDUCATION = (Path(__file__).resolve().parents[3]
               / "../shared/data/x-education-leads/Leads.csv").resolve()
MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def csv_file(tmp_path):
    def make(text: str, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path
    return make


@pytest.fixture
def leadflow_import(cli_data_dir):
    """Run `leadflow import ARGS...` as a user would (after `make run`: no --as)."""
    def run(*args: str, **env: str):
        return run_cli(["import", *args], cli_env(cli_data_dir, **env))
    return run


@pytest.fixture
def upload(client):
    """POST a file to /imports/ as the logged-in user; the answer."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def post(content: bytes, name: str = "leads.csv"):
        return client.post("/imports/", {"file": SimpleUploadedFile(name, content)})
    return post
