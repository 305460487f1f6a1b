"""CSV import: bad rows are reported by line and never stop the rest; any delimiter,
UTF-8 with or without BOM, Latin-1."""

from __future__ import annotations

import pytest

from leadflow.core.errors import InvalidInput
from leadflow.imports.services import import_path
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def test_import_creates_new_leads_and_updates_known_ones(csv_file):
    import_path(csv_file("email,first_name\nana@example.com,Ana\n"))

    report = import_path(csv_file("email,first_name,last_name,company_name,country,source\n"
                                  "ANA@example.com,Ana,Lima,Acme,fr,trade show\n"
                                  "bo@example.com,Bo,,,US,webinar\n"))

    assert (report.created, report.updated, report.errors) == (1, 1, [])
    ana = Lead.objects.get(email="ana@example.com")
    assert (ana.last_name, ana.company_name, ana.country) == ("Lima", "Acme", "FR")
    assert Lead.objects.get(email="bo@example.com").source == "webinar"


def test_bad_row_is_reported_with_its_line_and_skipped(csv_file):
    report = import_path(csv_file("email,first_name,channel\n"
                                  "ana@example.com,Ana,\n"
                                  "ana@,Broken,\n"
                                  "bo@example.com,Bo,carrier-pigeon\n"
                                  "cy@example.com,Cy,event\n"))

    assert [(e.line, e.field) for e in report.errors] == [(3, "email"), (4, "channel")]
    assert str(report.errors[0]) == "line 3: 'ana@' is not a valid email address."
    assert report.created == 2
    assert set(Lead.objects.values_list("email", flat=True)) == {"ana@example.com",
                                                                 "cy@example.com"}


def test_line_numbers_count_quoted_line_breaks(csv_file):
    report = import_path(csv_file('email,title\n"ana@example.com","Head of\nGrowth"\n'
                                  'nope,CEO\n'))

    assert [str(e) for e in report.errors] == ["line 4: 'nope' is not a valid email address."]
    assert Lead.objects.get().title == "Head of\nGrowth"


def test_row_without_email_or_external_id_is_rejected(csv_file):
    report = import_path(csv_file("email,external_id,first_name\n,,Nobody\n,crm-7,Seven\n"))

    assert [str(e) for e in report.errors] == ["line 2: needs an email or an external_id"]
    assert Lead.objects.get().external_id == "crm-7"


def test_row_with_more_cells_than_columns_is_rejected(csv_file):
    report = import_path(csv_file("email,first_name\nana@example.com,Ana,extra\n"))

    assert [str(e) for e in report.errors] == ["line 2: 3 cells for 2 columns"]
    assert not Lead.objects.exists()


def test_empty_cells_leave_existing_values_alone(csv_file):
    import_path(csv_file("email,first_name,city\nana@example.com,Ana,Lyon\n"))

    import_path(csv_file("email,first_name,city\nana@example.com,,Paris\n"))

    ana = Lead.objects.get()
    assert (ana.first_name, ana.city) == ("Ana", "Paris")


def test_semicolon_separated_file_with_bom_and_spaced_headers_is_read(csv_file):
    path = csv_file("\ufeffE-mail;First name;Company\nana@example.com;Ana;Société Générale\n")

    assert import_path(path).created == 1
    assert Lead.objects.get().company_name == "Société Générale"


def test_tab_and_pipe_separated_files_are_read(csv_file):
    import_path(csv_file("email\tfirst_name\nana@example.com\tAna\n", "tab.tsv"))
    import_path(csv_file("email|first_name\nbo@example.com|Bo\n", "pipe.csv"))

    assert set(Lead.objects.values_list("first_name", flat=True)) == {"Ana", "Bo"}


def test_latin1_file_is_read(csv_file):
    import_path(csv_file("email,last_name\nana@example.com,Müller\n", encoding="latin-1"))

    assert Lead.objects.get().last_name == "Müller"


def test_country_names_become_iso_codes_and_unknown_ones_are_flagged(csv_file):
    report = import_path(csv_file("email,country\na@example.com,Germany\n"
                                  "b@example.com,Atlantis\n"))

    assert report.rejected == 0
    assert Lead.objects.get(email="a@example.com").country == "DE"
    atlantis = Lead.objects.get(email="b@example.com")
    assert (atlantis.country, atlantis.quality_flags) == ("", ["unknown_country"])


def test_bad_phone_is_kept_and_flagged_and_good_ones_become_e164(csv_file):
    import_path(csv_file("email,country,phone\na@example.com,FR,06 12 34 56 78\n"
                         "b@example.com,FR,12\n"))

    assert Lead.objects.get(email="a@example.com").phone == "+33612345678"
    assert Lead.objects.get(email="b@example.com").quality_flags == ["invalid_phone"]
    assert Event.objects.filter(type="quality_flags_changed").count() == 1


def test_unknown_columns_are_reported_as_ignored(csv_file):
    report = import_path(csv_file("email,favourite colour\nana@example.com,blue\n"))

    assert report.ignored_columns == ["favourite colour"]
    assert report.created == 1


def test_file_without_an_identifier_column_is_refused(csv_file):
    with pytest.raises(InvalidInput, match="Map a column to email or to external_id"):
        import_path(csv_file("first_name,last_name\nAna,Lima\n"))


def test_empty_file_is_refused(csv_file):
    with pytest.raises(InvalidInput, match="empty"):
        import_path(csv_file(""))


def test_new_leads_come_from_the_import_channel_and_their_events_say_so(csv_file):
    import_path(csv_file("email\nana@example.com\n"))

    ana = Lead.objects.get()
    assert ana.channel == "import"
    assert Event.objects.get(lead=ana, type="lead_created").via == Event.Via.IMPORT


def test_a_known_lead_keeps_its_first_channel_and_source(csv_file):
    import_path(csv_file("email,channel,source\nana@example.com,event,salon\n"))

    import_path(csv_file("email,first_name,source\nana@example.com,Ana,webinar\n"))

    ana = Lead.objects.get()
    assert (ana.channel, ana.source, ana.last_touch["source"]) == ("event", "salon", "webinar")


def test_the_same_email_twice_in_a_file_makes_one_lead(csv_file):
    report = import_path(csv_file("email,first_name,city\nana@example.com,Ana,\n"
                                  "ana@example.com,,Lyon\n"))

    assert (report.created, report.updated) == (1, 1)
    assert Lead.objects.get().city == "Lyon"
