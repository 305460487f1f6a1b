"""The X Education file (9,240 real leads) imports completely with the shipped mapping."""

from __future__ import annotations

import pytest

from leadflow.imports.services import import_path
from leadflow.imports.tests.conftest import MAPPINGS, X_EDUCATION
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.tracking.models import Event

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not X_EDUCATION.exists(),
                       reason=f"the X Education data set is not at {X_EDUCATION}"),
]


def test_x_education_file_imports_every_lead_and_reimport_changes_nothing():
    report = import_path(X_EDUCATION, MAPPINGS / "x_education.json")

    assert (report.total, report.created, report.rejected) == (9240, 9240, 0)
    assert Lead.objects.count() == 9240
    assert Lead.objects.filter(stage="customer").count() == 3561
    assert Lead.objects.filter(stage="lost").count() == 9240 - 3561
    lead = Lead.objects.get(external_id="7927b2df-8bba-4d29-b9a2-b6e0beafe620")
    assert (lead.channel, lead.source, lead.do_not_email, lead.city) == (
        "api", "Olark Chat", False, "")
    assert lead.custom["tags"] == "Interested in other courses"
    assert lead.custom["total_visits"] == 0
    assert "specialization" not in lead.custom  # "Select" is a placeholder
    events = Event.objects.count()

    again = import_path(X_EDUCATION, MAPPINGS / "x_education.json")

    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 9240, 0)
    assert Event.objects.count() == events


def test_x_education_columns_known_only_after_contact_are_marked():
    import_path(X_EDUCATION, MAPPINGS / "x_education.json", dry_run=True)
    assert not CustomFieldDefinition.objects.exists()  # a dry run declares nothing

    import_path(X_EDUCATION, MAPPINGS / "x_education.json")

    marked = set(CustomFieldDefinition.objects.filter(label__contains="known only after contact")
                 .values_list("key", flat=True))
    assert {"tags", "lead_quality", "last_notable_activity", "asymmetrique_activity_index",
            "asymmetrique_profile_score"} <= marked
    assert "total_visits" not in marked


def test_x_education_countries_become_iso_codes():
    import_path(X_EDUCATION, MAPPINGS / "x_education.json")

    assert Lead.objects.filter(country="IN").count() > 6000
    assert not Lead.objects.exclude(country="").exclude(country__regex=r"^[A-Z]{2}$").exists()
