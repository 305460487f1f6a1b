"""BANT columns in English and French are recognised by their header and their yes/no
and timing values are read in either language."""

from __future__ import annotations

import pytest

from leadflow.imports.mapping import guess_target
from leadflow.imports.services import import_path
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header, target", [
    ("Budget", "budget"), ("Budget validé", "budget"), ("Décideur", "authority"),
    ("Autorité", "authority"), ("Decision maker", "authority"), ("Besoin", "need"),
    ("Need", "need"), ("Échéance", "timing"), ("Délai", "timing"), ("Timeframe", "timing"),
])
def test_bant_headers_map_to_their_fields(header, target):
    assert guess_target(header) == target


def test_a_french_file_with_bant_columns_imports_without_a_mapping(csv_file):
    path = csv_file("Courriel;Budget;Décideur;Besoin;Échéance\n"
                    "ana@example.com;oui;non;;moins de 12 mois\n"
                    "bob@example.com;yes;oui;oui;plus tard\n")
    report = import_path(path)
    assert (report.created, report.rejected) == (2, 0)
    ana = Lead.objects.get(email="ana@example.com")
    assert (ana.budget, ana.authority, ana.need, ana.timing) == (
        True, False, None, "within_12_months")
    bob = Lead.objects.get(email="bob@example.com")
    assert (bob.bant_known, bob.meets_bant, bob.timing) == (4, False, "later")


def test_an_unreadable_bant_value_rejects_the_row(csv_file):
    report = import_path(csv_file("Email,Budget\nana@example.com,maybe\n"))
    assert (report.created, report.rejected) == (0, 1)
