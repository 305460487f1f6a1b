from pathlib import Path

import pytest

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
