"""Column mappings: saved and reused, value maps, placeholders, custom fields, stages,
owners and outcomes."""

from __future__ import annotations

import pytest

from leadflow.core.errors import InvalidInput
from leadflow.imports.mapping import spec_from_choices
from leadflow.imports.models import ImportMapping
from leadflow.imports.services import import_path, save_mapping, spec_from
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.lifecycle.models import StageChange
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db

SPEC = {"columns": {
    "Mail": "email",
    "Origine": {"to": "source", "values": {"gg": "Google", "li": "LinkedIn"}},
    "Étape": {"to": "stage", "values": {"Chaud": "mql"}},
    "Commercial": "owner",
    "Gagné": {"to": "outcome", "values": {"1": "won", "0": "lost"}},
    "Visites": "custom.visits",
    "Notes": "ignore"},
    "custom_fields": {"visits": {"label": "Visits", "type": "number"}}}


def test_saved_mapping_is_reused_by_name_and_id(csv_file, admin_user):
    saved = save_mapping("CRM export", SPEC, user=admin_user)
    save_mapping("CRM export", {**SPEC, "placeholders": ["?"]}, user=admin_user)

    spec, found = spec_from(mapping_id=saved.pk)

    assert ImportMapping.objects.count() == 1
    assert found == saved and spec["placeholders"] == ["?"]
    report = import_path(csv_file("Mail,Origine\nana@example.com,gg\n"), spec)
    assert report.created == 1


def test_value_maps_rewrite_values_case_insensitively(csv_file):
    import_path(csv_file("Mail,Origine\nana@example.com,gg\nbo@example.com,LI\n"
                         "cy@example.com,Salon\n"), SPEC)

    assert dict(Lead.objects.values_list("email", "source")) == {
        "ana@example.com": "Google", "bo@example.com": "LinkedIn", "cy@example.com": "Salon"}


def test_placeholder_values_are_treated_as_empty(csv_file):
    import_path(csv_file("email,city\nana@example.com,Lyon\n"))

    report = import_path(csv_file("email,city,first_name\nana@example.com,Select,N/A\n"
                                  "bo@example.com,-,null\n"))

    assert (report.updated, report.created, report.rejected) == (0, 1, 0)
    assert dict(Lead.objects.values_list("email", "city")) == {"ana@example.com": "Lyon",
                                                               "bo@example.com": ""}


def test_placeholders_are_configurable(csv_file):
    spec = {"columns": {"email": "email", "city": "city"}, "placeholders": ["inconnu"]}

    import_path(csv_file("email,city\nana@example.com,Inconnu\nbo@example.com,Select\n"), spec)

    assert dict(Lead.objects.values_list("email", "city")) == {"ana@example.com": "",
                                                               "bo@example.com": "Select"}


def test_custom_fields_are_declared_and_typed(csv_file):
    report = import_path(csv_file("Mail,Visites\nana@example.com,3\nbo@example.com,2.5\n"
                                  "cy@example.com,many\n"), SPEC)

    assert CustomFieldDefinition.objects.get(key="visits").type == "number"
    assert Lead.objects.get(email="ana@example.com").custom == {"visits": 3}
    assert Lead.objects.get(email="bo@example.com").custom == {"visits": 2.5}
    assert [(e.line, e.field) for e in report.errors] == [(4, "custom.visits")]


def test_stage_owner_and_outcome_columns_go_through_their_services(csv_file, make_user):
    rep = make_user("rita", email="rita@example.com")
    report = import_path(csv_file("Mail,Étape,Commercial,Gagné\n"
                                  "ana@example.com,Chaud,rita,\n"
                                  "bo@example.com,,RITA@example.com,1\n"
                                  "cy@example.com,,nobody,\n"
                                  "dee@example.com,frozen,,\n"), SPEC)

    ana, bo = Lead.objects.get(email="ana@example.com"), Lead.objects.get(email="bo@example.com")
    assert (ana.stage, ana.owner, bo.stage, bo.owner) == ("mql", rep, "customer", rep)
    assert Event.objects.filter(lead=bo, type="won", via="import").exists()
    assert StageChange.objects.filter(lead=ana, to_stage="mql").exists()
    assert [(e.line, e.field) for e in report.errors] == [(4, "owner"), (5, "stage")]


def test_mapping_naming_an_unknown_target_is_refused(csv_file):
    with pytest.raises(InvalidInput, match="unknown target 'shoe_size'"):
        import_path(csv_file("email\nana@example.com\n"), {"columns": {"email": "shoe_size"}})


def test_mapping_screen_choices_keep_a_saved_columns_further_targets():
    base = {"columns": {"Origin": [{"to": "channel", "values": {"API": "api"}},
                                   {"to": "custom.origin"}]}}

    spec = spec_from_choices(["ID", "Origin", "Misc"], ["external_id", "channel", "custom.new"],
                             ["", "API=api; Web=web", ""], "Select, -", base)

    assert spec["columns"]["Origin"] == [{"to": "channel", "values": {"API": "api",
                                                                     "Web": "web"}},
                                         {"to": "custom.origin"}]
    assert spec["columns"]["Misc"] == {"to": "custom.misc", "values": {}}
    assert spec["placeholders"] == ["Select", "-"]
