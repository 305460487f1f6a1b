"""Excel (xlsx) import: read-only openpyxl, the first sheet, typed cells as text."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from leadflow.imports.services import import_path
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


def _xlsx(path, rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_rows_become_leads_with_numbers_and_flags(tmp_path):
    path = _xlsx(tmp_path / "leads.xlsx", [
        ["Email", "First name", "Do Not Email", "External ID"],
        ["ana@example.com", "Ana", "Yes", 1001],
        ["bo@example.com", "Bo", "No", 1002.0],
    ])

    report = import_path(path)

    assert (report.created, report.rejected) == (2, 0)
    ana = Lead.objects.get(email="ana@example.com")
    assert (ana.first_name, ana.do_not_email, ana.external_id) == ("Ana", True, "1001")
    assert Lead.objects.get(email="bo@example.com").external_id == "1002"


def test_xlsx_bad_row_is_reported_with_its_spreadsheet_line(tmp_path):
    path = _xlsx(tmp_path / "leads.xlsx", [["email"], ["ana@example.com"], [None],
                                           ["broken@"]])

    report = import_path(path)

    assert [(e.line, e.field) for e in report.errors] == [(4, "email")]
    assert Lead.objects.count() == 1


def test_xlsx_file_named_csv_is_still_read_as_xlsx(tmp_path):
    path = _xlsx(tmp_path / "export.csv", [["email"], ["ana@example.com"]])

    assert import_path(path).created == 1
