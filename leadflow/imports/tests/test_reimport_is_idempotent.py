"""Importing the same file twice: the second time every row is unchanged and the
timeline gets nothing."""

from __future__ import annotations

import pytest

from leadflow.imports.services import import_path
from leadflow.lifecycle.models import StageChange
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db

SPEC = {"columns": {"Email": "email", "Ref": "external_id", "Name": "first_name",
                    "Land": "country", "Source": "source", "Stage": "stage", "Rep": "owner",
                    "Won": {"to": "outcome", "values": {"1": "won", "0": "lost"}},
                    "Visits": "custom.visits", "DNE": "do_not_email"},
        "custom_fields": {"visits": {"label": "Visits", "type": "number"}}}
FILE = ("Email,Ref,Name,Land,Source,Stage,Rep,Won,Visits,DNE\n"
        "ana@example.com,A1,Ana,France,google,mql,rita,,3,No\n"
        ",B2,Bo,de,linkedin,,,1,2.5,Yes\n"
        "cy@example.com,,Cy,,,,,0,,\n"
        "bad@,C3,Bad,,,,,,,\n")


def test_reimporting_the_same_file_changes_nothing(csv_file, make_user):
    make_user("rita")
    path = csv_file(FILE)
    first = import_path(path, SPEC)
    assert (first.created, first.rejected) == (3, 1)
    events, changes = Event.objects.count(), StageChange.objects.count()

    again = import_path(path, SPEC)

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 1)
    assert (Event.objects.count(), StageChange.objects.count()) == (events, changes)


def test_a_changed_row_is_updated_and_only_its_changes_are_recorded(csv_file, make_user):
    make_user("rita")
    import_path(csv_file(FILE), SPEC)

    report = import_path(csv_file(FILE.replace("Ana,France", "Anna,France")), SPEC)

    assert (report.updated, report.unchanged) == (1, 2)
    event = Event.objects.filter(type="lead_updated").get()
    assert event.properties == {"changed": ["first_name"]}
