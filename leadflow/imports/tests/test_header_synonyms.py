"""Column names in English and French map to lead fields without a mapping file (the CLI)
and in the mapping screen's first guess, whatever their case, accents, spaces and
punctuation; the screen's dropdowns show field labels, not internal keys."""

from __future__ import annotations

import pytest

from leadflow.accounts.models import Role
from leadflow.imports.mapping import guess_spec, guess_target
from leadflow.imports.models import ImportJob
from leadflow.imports.services import import_path
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db

FAMILIES = {
    "email": ["Email", "E-mail", "E-Mail", "Courriel", "Adresse e-mail", "Mail",
              "ADRESSE E-MAIL", "email_address"],
    "first_name": ["Prénom", "prenom", "PRÉNOM", "First Name", "Firstname", "first_name",
                   "Given name"],
    "last_name": ["Nom", "Nom de famille", "Last Name", "Surname", "last-name"],
    "company_name": ["Société", "Societe", "Entreprise", "Company", "Organisation",
                     "Raison sociale"],
    "phone": ["Téléphone", "Tél.", "Tel", "Mobile", "Portable", "Phone", "Phone number"],
    "country": ["Pays", "Country", " PAYS "],
    "title": ["Poste", "Fonction", "Job Title", "Title", "job_title"],
    "city": ["Ville", "City"],
    "created_at": ["Date de création", "Date de creation", "Created", "Created at",
                   "Creation date", "created_at"],
    "notes": ["Notes", "Note", "Commentaires", "Comments", "Remarques"],
}
CASES = [(name, to) for to, names in FAMILIES.items() for name in names]


@pytest.mark.parametrize("header, target", CASES, ids=[h for h, _ in CASES])
def test_header_name_maps_to_its_field(header, target):
    assert guess_target(header) == target


@pytest.mark.parametrize("names", [
    ["Courriel", "Prénom", "Nom", "Société", "Téléphone", "Pays", "Poste", "Ville"],
    ["E-mail", "First Name", "Last Name", "Company", "Mobile", "Country", "Job Title",
     "City"],
], ids=["fr", "en"])
def test_a_file_with_these_headers_imports_without_a_mapping(csv_file, names):
    path = csv_file(",".join(names) + "\nana@example.com,Ana,Lima,Acme,+33 6 12 34 56 78,"
                    "France,CTO,Lyon\n")

    report = import_path(path)

    assert (report.created, report.rejected, report.ignored_columns) == (1, 0, [])
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name, lead.company_name, lead.phone,
            lead.country, lead.title, lead.city) == (
        "ana@example.com", "Ana", "Lima", "Acme", "+33612345678", "FR", "CTO", "Lyon")


def test_two_columns_for_one_field_keep_the_first():
    spec = guess_spec(["Email", "Téléphone", "Mobile"])

    assert spec["columns"] == {"Email": "email", "Téléphone": "phone", "Mobile": "ignore"}


def test_mapping_screen_guesses_and_shows_labels(client, make_user, upload):
    client.force_login(make_user("mia", Role.MARKETING))
    upload("Courriel;Prénom;Société;Date de création\nana@example.com;Ana;Acme;"
           "02/03/2024\n".encode())
    url = f"/imports/{ImportJob.objects.get().pk}/map/"

    page = client.get(url).content.decode()

    assert '<option value="email" selected>Email</option>' in page
    assert '<option value="first_name" selected>First name</option>' in page
    assert '<option value="company_name" selected>Company name</option>' in page
    assert '<option value="created_at" selected>Creation date</option>' in page
    assert ">company_name<" not in page

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<option value="first_name" selected>Prénom</option>' in page
