"""The per-row error report: rejected rows with line, field and message, and cells a
spreadsheet will not run as formulas."""

from __future__ import annotations

import csv
import io

import pytest

from leadflow.imports.services import error_report_csv, import_path

pytestmark = pytest.mark.django_db


def test_error_report_lists_rejected_rows_with_their_original_cells(csv_file):
    report = import_path(csv_file("email,first_name\nana@example.com,Ana\nnope,Bo\n"))

    rows = list(csv.reader(io.StringIO(error_report_csv(report.header, report.errors))))

    assert rows == [["line", "field", "message", "email", "first_name"],
                    ["3", "email", "'nope' is not a valid email address.", "nope", "Bo"]]


@pytest.mark.parametrize("payload", ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)",
                                     "\tcmd", "\rcmd"])
def test_error_report_neutralises_formulas(csv_file, payload):
    path = csv_file("email,first_name\n" + f'"{payload}",X\n')
    report = import_path(path)

    rows = list(csv.reader(io.StringIO(error_report_csv(report.header, report.errors))))

    assert rows[1][3] == "'" + payload
