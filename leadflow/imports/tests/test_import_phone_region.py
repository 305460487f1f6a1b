"""Imported phones without a country prefix take the row's country, else the
installation's default region (LEADFLOW_DEFAULT_COUNTRY), through the bulk import path."""

from __future__ import annotations

import pytest

from leadflow.imports.services import import_path
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_national_numbers_take_the_rows_country_else_the_default(csv_file, settings):
    settings.DEFAULT_COUNTRY = "FR"
    path = csv_file("Email,Téléphone,Pays\nana@example.com,06 12 34 56 78,\n"
                    "bo@example.com,030 1234567,Allemagne\n"
                    "cy@example.com,030 1234567,Germany\n"
                    "dan@example.com,+44 20 7946 0958,France\n")

    report = import_path(path)

    assert report.rejected == 0
    phones = dict(Lead.objects.values_list("email", "phone"))
    assert phones["ana@example.com"] == "+33612345678"
    assert phones["bo@example.com"] == phones["cy@example.com"] == "+49301234567"
    assert phones["dan@example.com"] == "+442079460958"
    assert not Lead.objects.get(email="ana@example.com").contact_data_incorrect
