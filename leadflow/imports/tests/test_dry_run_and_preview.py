"""Preview (the first rows mapped, each with what would happen) and dry run (everything
checked, nothing written)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from leadflow.imports.services import PREVIEW_ROWS, create_job, import_path, preview
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def test_dry_run_reports_everything_and_writes_nothing(csv_file, make_lead):
    make_lead("ana@example.com", first_name="Ana")
    events = Event.objects.count()
    spec = {"columns": {"email": "email", "first_name": "first_name", "visits": "custom.visits",
                        "won": "outcome"}}

    report = import_path(csv_file("email,first_name,visits,won\nana@example.com,Anna,1,\n"
                                  "bo@example.com,Bo,2,won\nbad@,X,3,\n"), spec, dry_run=True)

    assert (report.dry_run, report.created, report.updated, report.rejected) == (
        True, 1, 1, 1)
    assert [(e.line, e.field) for e in report.errors] == [(4, "email")]
    assert list(Lead.objects.values_list("email", "first_name")) == [("ana@example.com", "Ana")]
    assert Event.objects.count() == events
    assert not CustomFieldDefinition.objects.exists()


def test_preview_maps_the_first_rows_with_their_problems(csv_file, admin_user):
    lines = "".join(f"lead{i}@example.com,Lead {i}\n" for i in range(30))
    path = csv_file("email,first_name\nbroken@,Bad\n" + lines)
    job = create_job(admin_user, ContentFile(path.read_bytes()), name="leads.csv")

    report = preview(job, job.spec)

    assert report.total == PREVIEW_ROWS
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "'broken@' is not a valid email address.")]
    assert report.preview[0].status == "error"
    assert report.preview[1].values == {"email": "lead0@example.com", "first_name": "Lead 0"}
    assert {r.status for r in report.preview} == {"created", "error"}
    assert not Lead.objects.exists()
