"""A header without rows says "no rows to import"; a file that is not text (an image, a
zip that is not xlsx, binary data) says what it looks like. Neither is a traceback or a
message about the mapping: on the command line (exit 2), the upload page and the API."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.accounts.services import create_token
from leadflow.imports.models import ImportJob

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("leads.csv", "email\nana@example.com\n")
    return out.getvalue()


CASES = [
    ("header-only.csv", b"email,first_name\n\n \n", "no rows to import"),
    ("header-only-bom.csv", b"\xef\xbb\xbfPr\xc3\xa9nom;Courriel\r\n", "no rows to import"),
    ("photo.png", PNG, "not a CSV or Excel file: it looks like a PNG image"),
    ("leads.zip", _zip(), "not a CSV or Excel file: it looks like a zip archive that is "
                          "not an Excel workbook"),
    ("fake.xlsx", _zip(), "not a CSV or Excel file: it looks like a zip archive"),
    ("data.bin", bytes(range(256)) * 4, "not a CSV or Excel file: it looks like binary"),
    ("nul.csv", b"email,first_name\nana@example.com,A\x00na\n", "binary data"),
]


@pytest.mark.parametrize("name, content, message", CASES, ids=[c[0] for c in CASES])
def test_cli_says_what_is_wrong_and_exits_2(tmp_path, leadflow_import, name, content,
                                             message):
    path = tmp_path / name
    path.write_bytes(content)

    result = leadflow_import(str(path))

    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "mapping" not in result.stderr.lower()


@pytest.mark.parametrize("name, content, message", CASES, ids=[c[0] for c in CASES])
def test_upload_page_says_what_is_wrong(client, make_user, upload, name, content, message):
    client.force_login(make_user("mia", Role.MARKETING))

    resp = upload(content, name)

    assert resp.status_code == 422
    page = resp.content.decode()
    assert message in page
    assert "Map a column" not in page
    assert not ImportJob.objects.exists()


def test_api_says_no_rows_to_import(make_user):
    token = create_token(make_user("mia", Role.MARKETING))[1]
    resp = Client().post("/api/v1/imports", {"file": SimpleUploadedFile("l.csv", b"email\n")},
                         HTTP_AUTHORIZATION=f"Bearer {token}")

    assert resp.status_code == 422
    assert "no rows to import" in resp.content.decode()


def test_the_messages_are_in_the_users_language(client, make_user, upload):
    client.force_login(make_user("mia", Role.MARKETING))

    page = client.post("/imports/", {"file": SimpleUploadedFile("p.png", PNG)},
                       HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "n&#x27;est ni un CSV ni un fichier Excel : il ressemble à une image PNG" in page
