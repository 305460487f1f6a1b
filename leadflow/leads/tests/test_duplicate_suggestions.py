import pytest
from django.core.management import call_command

from leadflow.accounts.models import Role
from leadflow.leads import dedupe
from leadflow.leads.models import DuplicateSuggestion, Lead
from leadflow.leads.services import upsert_lead

pytestmark = pytest.mark.django_db


def pairs():
    return {(s.lead_a_id, s.lead_b_id, s.reason)
            for s in DuplicateSuggestion.objects.all()}


def test_same_email_in_other_case_is_the_same_lead_not_a_duplicate():
    a, _ = upsert_lead({"email": "Ana@Acme.example"})
    b, created = upsert_lead({"email": " ana@acme.EXAMPLE "})
    assert a.pk == b.pk and not created
    assert Lead.objects.count() == 1


def test_same_phone_is_suggested_on_upsert():
    a, _ = upsert_lead({"email": "ana@one.example", "phone": "+33 6 12 34 56 78"})
    b, _ = upsert_lead({"email": "lima@two.example", "phone": "06 12 34 56 78",
                        "country": "FR"})
    assert pairs() == {(a.pk, b.pk, "same_phone")}


def test_same_company_domain_and_similar_name_is_suggested():
    a, _ = upsert_lead({"email": "ana.lima@acme.example", "first_name": "Ana",
                        "last_name": "Lima"})
    b, _ = upsert_lead({"email": "alima@acme.example", "first_name": "ANA",
                        "last_name": "Líma"})
    upsert_lead({"email": "bob@acme.example", "first_name": "Bob", "last_name": "Stone"})
    assert pairs() == {(a.pk, b.pk, "same_company_name")}


def test_free_mail_domains_are_not_a_company():
    upsert_lead({"email": "ana.lima@gmail.com", "first_name": "Ana", "last_name": "Lima"})
    upsert_lead({"email": "ana.lima2@gmail.com", "first_name": "Ana", "last_name": "Lima"})
    assert pairs() == set()


def test_gmail_dots_are_not_merged_automatically():
    upsert_lead({"email": "ana.lima@gmail.com"})
    upsert_lead({"email": "analima@gmail.com"})
    assert Lead.objects.count() == 2


def test_dismissed_pairs_stay_dismissed_after_a_full_refresh(admin_user):
    upsert_lead({"email": "a@one.example", "phone": "+33612345678"})
    upsert_lead({"email": "b@two.example", "phone": "+33612345678"})
    suggestion = DuplicateSuggestion.objects.get()
    dedupe.dismiss(suggestion, actor=admin_user)
    call_command("refresh_duplicates")
    assert DuplicateSuggestion.objects.get().status == DuplicateSuggestion.Status.DISMISSED


def test_full_refresh_is_set_based(django_assert_max_num_queries):
    leads = [Lead(email=f"p{i}@co{i % 20}.example", first_name=f"N{i % 7}", last_name="X",
                  phone=f"+336123456{i % 50:02d}", created_at="2026-01-01T00:00Z",
                  updated_at="2026-01-01T00:00Z") for i in range(200)]
    Lead.objects.bulk_create(leads)
    with django_assert_max_num_queries(20):
        created = dedupe.refresh_all()
    assert created > 0
    with django_assert_max_num_queries(20):
        assert dedupe.refresh_all() == 0  # safe to run twice


def test_duplicates_page_compares_side_by_side_and_reps_see_only_their_own(
        client, make_user, admin_user):
    rep = make_user("rita", Role.SALES_REP)
    a, _ = upsert_lead({"email": "a@one.example", "phone": "+33612345678",
                        "first_name": "Ann"})
    b, _ = upsert_lead({"email": "b@two.example", "phone": "+33612345678",
                        "first_name": "Anne"})
    client.force_login(admin_user)
    body = client.get("/leads/duplicates/").content.decode()
    assert "Ann" in body and "Anne" in body and "Same phone number" in body
    Lead.objects.filter(pk=a.pk).update(owner=rep)
    client.force_login(rep)
    assert "Same phone number" not in client.get("/leads/duplicates/").content.decode()
    Lead.objects.filter(pk=b.pk).update(owner=rep)
    assert "Same phone number" in client.get("/leads/duplicates/").content.decode()


def test_not_duplicates_button_dismisses(client, admin_user):
    upsert_lead({"email": "a@one.example", "phone": "+33612345678"})
    upsert_lead({"email": "b@two.example", "phone": "+33612345678"})
    suggestion = DuplicateSuggestion.objects.get()
    client.force_login(admin_user)
    r = client.post(f"/leads/duplicates/{suggestion.pk}/dismiss")
    assert r.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == "dismissed" and suggestion.decided_by == admin_user


def test_api_lists_duplicates(api):
    upsert_lead({"email": "a@one.example", "phone": "+33612345678"})
    upsert_lead({"email": "b@two.example", "phone": "+33612345678"})
    items = api.get("/leads/duplicates").json()["items"]
    assert [i["reason"] for i in items] == ["same_phone"]


def test_refresh_for_touched_leads_is_set_based(django_assert_max_num_queries):
    Lead.objects.bulk_create([
        Lead(email=f"p{i}@co{i % 10}.example", first_name=f"N{i % 5}", last_name="X",
             phone=f"+336123456{i % 40:02d}", created_at="2026-01-01T00:00Z",
             updated_at="2026-01-01T00:00Z") for i in range(200)])
    dedupe.backfill_keys()
    ids = list(Lead.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(12):
        assert dedupe.refresh_for(ids) > 0
