"""The leads search on PostgreSQL reads a copy of each lead's email, names and company
kept by triggers (leads migration 0007): it follows creation one by one and in bulk,
edits, merges, erasure and deletion, and a score write leaves it alone."""

from __future__ import annotations

import pytest
from django.db import connection

from leadflow.core import clock
from leadflow.leads.models import Lead, LeadSearch
from leadflow.leads.privacy import erase_lead
from leadflow.leads.services import search_leads

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="the trigram copy and its triggers are PostgreSQL's"),
]


def _text(lead: Lead) -> str | None:
    row = LeadSearch.objects.filter(lead_id=lead.pk).first()
    return row.text if row else None


def _found(user, q: str) -> set[str]:
    return set(search_leads(user, q=q).values_list("email", flat=True))


def test_a_new_lead_is_found_by_any_part_of_its_names_email_or_company(
        make_lead, admin_user):
    make_lead("zoe.martin@acme.example", first_name="Zoé", last_name="Martin",
              company_name="Acme Ltd")
    make_lead("bob@other.example", first_name="Bob")

    assert _found(admin_user, "zoé") == {"zoe.martin@acme.example"}
    assert _found(admin_user, "ACME") == {"zoe.martin@acme.example"}
    assert _found(admin_user, "zoé martin") == {"zoe.martin@acme.example"}
    assert _found(admin_user, "example") == {"zoe.martin@acme.example", "bob@other.example"}
    assert _found(admin_user, "100%") == set()  # LIKE's wildcards are plain characters


def test_leads_created_in_one_statement_all_get_their_text(admin_user):
    now = clock.now()
    Lead.objects.bulk_create([Lead(email=f"bulk{i}@example.com", last_name=f"Nadal{i}",
                                   created_at=now, updated_at=now) for i in range(30)])

    assert LeadSearch.objects.count() == 30
    assert _found(admin_user, "nadal7") == {"bulk7@example.com"}


def test_an_edit_moves_the_text_and_a_score_write_leaves_it(make_lead, admin_user):
    lead = make_lead("ana@example.com", first_name="Ana")
    Lead.objects.filter(pk=lead.pk).update(first_name="Anabella")
    assert (_text(lead) or "").split() == ["ANA@EXAMPLE.COM", "ANABELLA"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text::bigint FROM leads_leadsearch WHERE lead_id = %s",
                       [lead.pk])
        written_by = cursor.fetchone()[0]
        Lead.objects.filter(pk=lead.pk).update(score=50, fit_score=10)
        lead.refresh_from_db()
        lead.save()  # every column written, none of the searched ones changed
        cursor.execute("SELECT xmin::text::bigint FROM leads_leadsearch WHERE lead_id = %s",
                       [lead.pk])
        assert cursor.fetchone()[0] == written_by
    assert _found(admin_user, "anabella") == {"ana@example.com"}


def test_erasure_leaves_nothing_of_the_person_in_the_search_copy(make_lead, admin_user):
    lead = make_lead("zebulon.q@example.org", first_name="Zebulon", last_name="Quintavalle")

    erase_lead(lead, actor=admin_user)

    text = _text(lead) or ""
    assert "ZEBULON" not in text and "QUINTAVALLE" not in text
    assert _found(admin_user, "zebulon") == set()


def test_a_deleted_lead_takes_its_text_with_it(make_lead):
    lead = make_lead("gone@example.com")
    pk = lead.pk

    lead.delete()

    assert not LeadSearch.objects.filter(lead_id=pk).exists()
