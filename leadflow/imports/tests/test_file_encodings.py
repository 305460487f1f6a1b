"""Text encodings of CSV files: a byte order mark decides (UTF-8, UTF-16 LE/BE), else
strict UTF-8, else Windows-1252; bytes that fit none are refused in words (CLI exit 2, the
upload page), and the mapping screen lets the person read the file with another one."""

from __future__ import annotations

import codecs

import pytest

from leadflow.accounts.models import Role
from leadflow.imports.models import ImportJob
from leadflow.imports.reader import open_table
from leadflow.imports.services import import_path
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db
TEXT = "email,last_name,company_name\nana@example.com,Lœw,Café “Zoé” 5 €\n"
# 0x81 is one of the five bytes Windows-1252 leaves undefined; 0xE9 alone is not UTF-8.
UNDECODABLE = b"email,last_name\nana@example.com,Caf\xe9 \x81\n"


@pytest.mark.parametrize("raw, codec", [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
    (TEXT.encode("cp1252"), "cp1252"),
], ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "windows-1252"])
def test_each_encoding_is_detected_and_keeps_every_letter(tmp_path, raw, codec):
    path = tmp_path / "leads.csv"
    path.write_bytes(raw)

    assert open_table(path).encoding == codec
    report = import_path(path)

    assert (report.created, report.rejected) == (1, 0)
    lead = Lead.objects.get()
    assert (lead.email, lead.last_name, lead.company_name) == (
        "ana@example.com", "Lœw", "Café “Zoé” 5 €")


def test_a_named_encoding_is_used_as_given(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes("email,last_name\nana@example.com,Lœw\n".encode("iso-8859-15"))

    import_path(path, encoding="iso-8859-15")  # detected, it would read "L½w"

    assert Lead.objects.get().last_name == "Lœw"


def test_undecodable_bytes_exit_2_with_a_clear_message(tmp_path, leadflow_import):
    path = tmp_path / "leads.csv"
    path.write_bytes(UNDECODABLE)

    result = leadflow_import(str(path))

    assert result.returncode == 2, result.stderr
    assert "fit no known text encoding" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_named_encoding_that_does_not_fit_exits_2(tmp_path, leadflow_import):
    path = tmp_path / "leads.csv"
    path.write_bytes(UNDECODABLE)

    result = leadflow_import(str(path), "--encoding", "utf-8")

    assert result.returncode == 2
    assert "cannot be read as UTF-8" in result.stderr


def test_cli_reads_with_the_encoding_given(tmp_path, leadflow_import):
    path = tmp_path / "leads.csv"
    path.write_bytes("email,last_name\nana@example.com,Lœw\n".encode("cp1252"))

    result = leadflow_import(str(path), "--encoding", "cp1252")

    assert result.returncode == 0, result.stderr
    assert "created 1" in result.stdout


def test_upload_of_undecodable_bytes_says_so(client, make_user, upload):
    client.force_login(make_user("mia", Role.MARKETING))

    resp = upload(UNDECODABLE)

    assert resp.status_code == 422
    assert "fit no known text encoding" in resp.content.decode()
    assert not ImportJob.objects.exists()


def test_mapping_screen_shows_the_encoding_and_reads_again_with_another(client, make_user,
                                                                        upload):
    client.force_login(make_user("mia", Role.MARKETING))
    upload("email,last_name\nana@example.com,Lœw\n".encode("cp1252"))
    job = ImportJob.objects.get()
    url = f"/imports/{job.pk}/map/"

    page = client.get(url).content.decode()
    assert '<option value="cp1252" selected>' in page
    assert "Lœw" in page

    page = client.get(url, {"encoding": "latin-1"}).content.decode()
    job.refresh_from_db()
    assert job.encoding == "latin-1"
    assert '<option value="latin-1" selected>' in page
    assert "L\x9cw" in page  # Latin-1 turns œ into a control character: the wrong choice

    page = client.get(url, {"encoding": "utf-8"})
    job.refresh_from_db()
    assert page.status_code == 422 and job.encoding == "latin-1"
    assert "cannot be read as UTF-8" in page.content.decode()

    client.get(url, {"encoding": "cp1252"})
    client.post(url, {"to_0": "email", "to_1": "last_name", "action": "run"})
    assert Lead.objects.get().last_name == "Lœw"


def test_api_takes_the_encoding(make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from leadflow.accounts.services import create_token

    token = create_token(make_user("mia", Role.MARKETING))[1]
    raw = "email,last_name\nana@example.com,Lœw\n".encode("iso-8859-15")

    resp = Client().post("/api/v1/imports", {
        "file": SimpleUploadedFile("l.csv", raw), "encoding": "iso-8859-15"},
        HTTP_AUTHORIZATION=f"Bearer {token}")

    assert resp.status_code == 200, resp.content
    assert Lead.objects.get().last_name == "Lœw"
    assert ImportJob.objects.get().encoding == "iso-8859-15"


def test_choosing_an_encoding_previews_the_rows_read_with_it(client, make_user, upload):
    client.force_login(make_user("mia", Role.MARKETING))
    upload("Courriel;Société\nana@example.com;Lœw & fils\n".encode("iso-8859-15"))
    url = f"/imports/{ImportJob.objects.get().pk}/map/"
    assert "L½w &amp; fils" in client.get(url).content.decode()  # read as Windows-1252

    page = client.get(url, {"encoding": "iso-8859-15"}).content.decode()

    assert "Read as ISO 8859-15 (Latin-9)." in page
    assert "<strong>Company name</strong>: Lœw &amp; fils" in page  # the preview
