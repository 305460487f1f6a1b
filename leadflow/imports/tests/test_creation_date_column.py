"""A creation-date column dates the leads the import creates (ISO, DD/MM/YYYY, xlsx
dates; 03/04/2024 is read day first unless a number over 12 says otherwise); a bad date
rejects its row, not the file; a known lead keeps when it came."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone
from openpyxl import Workbook

from leadflow.imports.services import import_path
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


def _at(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.mark.parametrize("cell, expected", [
    ("2024-03-02", _at(2024, 3, 2)),
    ("2024-03-02T14:30:00", _at(2024, 3, 2, 14, 30)),
    ("2024-03-02T14:30:00+00:00", datetime.fromisoformat("2024-03-02T14:30:00+00:00")),
    ("02/03/2024", _at(2024, 3, 2)),  # French: day first
    ("02.03.2024 09:15", _at(2024, 3, 2, 9, 15)),
    ("25/12/23", _at(2023, 12, 25)),
    ("12/25/2023", _at(2023, 12, 25)),  # a 25th month cannot be: month first
])
def test_creation_date_sets_when_the_lead_was_created(csv_file, cell, expected):
    report = import_path(csv_file(f"Email,Date de création\nana@example.com,{cell}\n"))

    assert (report.created, report.rejected) == (1, 0)
    lead = Lead.objects.get()
    assert lead.created_at == expected
    assert lead.first_touch_at == expected


def test_month_first_when_the_mapping_says_so(csv_file):
    spec = {"columns": {"email": "email", "created": "created_at"}, "date_order": "mdy"}

    import_path(csv_file("email,created\nana@example.com,03/04/2024\n"), spec)

    assert Lead.objects.get().created_at == _at(2024, 3, 4)


def test_xlsx_dates_are_read(tmp_path):
    book = Workbook()
    book.active.append(["Email", "Created at"])
    book.active.append(["ana@example.com", datetime(2023, 11, 5, 8, 0)])
    path = tmp_path / "leads.xlsx"
    book.save(path)

    import_path(path)

    assert Lead.objects.get().created_at == _at(2023, 11, 5, 8, 0)


def test_a_bad_date_rejects_its_row_only(csv_file):
    report = import_path(csv_file("Email,Created\nana@example.com,31/02/2024\n"
                                  "bo@example.com,someday\ncy@example.com,01/02/2024\n"
                                  "dan@example.com,2999-01-01\n"))

    assert (report.created, report.rejected) == (1, 3)
    assert [(e.line, e.field) for e in report.errors] == [
        (2, "created_at"), (3, "created_at"), (5, "created_at")]
    assert "is not a date" in report.errors[1].message
    assert "in the future" in report.errors[2].message
    assert Lead.objects.get().email == "cy@example.com"


def test_a_known_lead_keeps_its_creation_date(csv_file, make_lead):
    lead = make_lead("ana@example.com")
    created = lead.created_at

    report = import_path(csv_file("Email,Prénom,Date de création\n"
                                  "ana@example.com,Ana,01/01/2020\n"))

    assert report.updated == 1
    lead.refresh_from_db()
    assert (lead.first_name, lead.created_at) == ("Ana", created)
