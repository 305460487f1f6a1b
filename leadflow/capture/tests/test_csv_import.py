"""CSV import: one upsert per row; bad rows are reported by line and never stop the rest."""

from __future__ import annotations

import pytest

from leadflow.capture.importer import import_csv, import_csv_text
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def test_import_creates_new_leads_and_updates_known_ones():
    import_csv_text("email,first_name\nana@example.com,Ana\n")

    report = import_csv_text("email,first_name,last_name,company_name,country,source\n"
                             "ANA@example.com,Ana,Lima,Acme,fr,trade show\n"
                             "bo@example.com,Bo,,,US,webinar\n")

    assert (report.created, report.updated, report.errors) == (1, 1, [])
    ana = Lead.objects.get(email="ana@example.com")
    assert (ana.last_name, ana.company_name, ana.country) == ("Lima", "Acme", "FR")
    assert Lead.objects.get(email="bo@example.com").source == "webinar"


def test_bad_row_is_reported_with_its_line_and_skipped():
    report = import_csv_text("email,first_name,channel\n"
                             "ana@example.com,Ana,\n"
                             "ana@,Broken,\n"
                             "bo@example.com,Bo,carrier-pigeon\n"
                             "cy@example.com,Cy,event\n")

    assert [str(e) for e in report.errors] == [
        "line 3: 'ana@' is not a valid email address.",
        "line 4: channel must be one of web, organic_search, paid_search, social, email, "
        "referral, event, phone, field, import, api, other.",
    ]
    assert report.created == 2
    assert set(Lead.objects.values_list("email", flat=True)) == {"ana@example.com",
                                                                 "cy@example.com"}


def test_line_numbers_count_quoted_line_breaks():
    report = import_csv_text('email,title\n'
                             '"ana@example.com","Head of\nGrowth"\n'
                             'nope,CEO\n')

    assert [str(e) for e in report.errors] == ["line 4: 'nope' is not a valid email address."]
    assert Lead.objects.get().title == "Head of\nGrowth"


def test_row_without_email_or_external_id_is_rejected():
    report = import_csv_text("email,external_id,first_name\n,,Nobody\n,crm-7,Seven\n")

    assert [str(e) for e in report.errors] == ["line 2: needs an email or an external_id"]
    assert Lead.objects.get().external_id == "crm-7"


def test_row_with_more_cells_than_columns_is_rejected():
    report = import_csv_text("email,first_name\nana@example.com,Ana,extra\n")

    assert [str(e) for e in report.errors] == ["line 2: 3 cells for 2 columns"]
    assert not Lead.objects.exists()


def test_empty_cells_leave_existing_values_alone():
    import_csv_text("email,first_name,city\nana@example.com,Ana,Lyon\n")

    import_csv_text("email,first_name,city\nana@example.com,,Paris\n")

    ana = Lead.objects.get()
    assert (ana.first_name, ana.city) == ("Ana", "Paris")


def test_semicolon_separated_file_with_bom_and_spaced_headers_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffE-mail;First name;Company\nana@example.com;Ana;Société Générale\n"
                     .encode())

    report = import_csv(path)

    assert report.created == 1
    assert Lead.objects.get().company_name == "Société Générale"


def test_latin1_file_is_read(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,last_name\nana@example.com,Müller\n".encode("latin-1"))

    import_csv(path)

    assert Lead.objects.get().last_name == "Müller"


def test_unknown_columns_are_reported_as_ignored():
    report = import_csv_text("email,favourite colour\nana@example.com,blue\n")

    assert report.ignored_columns == ["favourite colour"]
    assert report.created == 1


def test_file_without_an_identifier_column_is_refused():
    with pytest.raises(InvalidInput, match="needs an email or an external_id column"):
        import_csv_text("first_name,last_name\nAna,Lima\n")


def test_empty_file_is_refused():
    with pytest.raises(InvalidInput, match="empty"):
        import_csv_text("")


def test_new_leads_come_from_the_import_channel_and_their_events_say_so():
    import_csv_text("email\nana@example.com\n")

    ana = Lead.objects.get()
    assert ana.channel == "import"
    assert Event.objects.get(lead=ana, type="lead_created").via == Event.Via.IMPORT


def test_a_known_lead_keeps_its_first_channel():
    import_csv_text("email,channel\nana@example.com,event\n")

    import_csv_text("email,first_name\nana@example.com,Ana\n")

    assert Lead.objects.get().channel == "event"
