"""`leadflow import PATH [--mapping FILE] [--dry-run] [--as USERNAME]`: counts, the error
report's path, exit 1 when rows were rejected and 2 on expected errors."""

from __future__ import annotations

import csv
import json

import pytest

from leadflow import cli
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def test_import_reports_bad_rows_in_an_error_report_and_keeps_good_ones(csv_file, capsys):
    path = csv_file("email,first_name,channel\nana@example.com,Ana,web\n"
                    "not-an-email,Bad,web\nbo@example.com,Bo,pigeon\ncy@example.com,Cy,\n")

    assert cli.main(["import", str(path)]) == 1

    out, err = capsys.readouterr()
    assert "rows 4, created 2, updated 0, unchanged 0, rejected 2" in out
    report = path.with_name("leads.errors.csv")
    assert f"error report: {report}" in out
    assert f"{path}: line 3: 'not-an-email' is not a valid email address." in err
    rows = list(csv.reader(report.open()))
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert set(Lead.objects.values_list("email", flat=True)) == {"ana@example.com",
                                                                 "cy@example.com"}


def test_import_with_a_mapping_file_as_a_user(csv_file, tmp_path, admin_user, capsys):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": {"Mail": "email", "Nom": "last_name"}}))

    code = cli.main(["import", str(csv_file("Mail,Nom\nana@example.com,Lima\n")),
                     "--mapping", str(mapping), "--as", admin_user.username])

    assert code == 0
    assert "created 1" in capsys.readouterr().out
    assert Lead.objects.get().last_name == "Lima"
    assert Event.objects.get(type="lead_created").actor == admin_user


def test_dry_run_writes_nothing(csv_file, capsys):
    assert cli.main(["import", str(csv_file("email\nana@example.com\n")), "--dry-run"]) == 0

    assert "dry run: rows 1, created 1" in capsys.readouterr().out
    assert not Lead.objects.exists()


@pytest.mark.parametrize("args, message", [
    (["nope.csv"], "Cannot read"),
    (["leads.csv", "--mapping", "missing.json"], "Cannot read"),
    (["leads.csv", "--as", "nobody"], "no active user 'nobody'"),
])
def test_expected_errors_exit_2(csv_file, tmp_path, monkeypatch, capsys, args, message):
    csv_file("email\nana@example.com\n")
    monkeypatch.chdir(tmp_path)

    assert cli.main(["import", *args]) == 2
    assert message in capsys.readouterr().err
    assert not Lead.objects.exists()


def test_the_readme_command_imports_a_french_spreadsheet_export(tmp_path, leadflow_import):
    # As after `make run`: a migrated database, no --as, no mapping, Excel's CSV (cp1252).
    path = tmp_path / "leads.csv"
    path.write_bytes("Prénom;Nom;Adresse e-mail;Société;Téléphone;Pays;Ville;"
                     "Date de création;Commentaires\r\n"
                     "Zoé;Lœw;zoe@example.fr;Café € ;06 12 34 56 78;France;Lyon;"
                     '25/12/2023;"Rappeler\r\nen mai"\r\n'.encode("cp1252"))

    result = leadflow_import(str(path))

    assert result.returncode == 0, result.stderr
    assert "rows 1, created 1, updated 0, unchanged 0, rejected 0" in result.stdout
    assert "ignored columns" not in result.stderr
