import pytest

from leadflow.leads import quality
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def test_flags_are_sorted_codes_for_each_problem():
    flags = quality.quality_flags({"email": "a@mailinator.com", "phone": "12",
                                   "country": "Atlantis"})
    assert flags == ["disposable_email", "invalid_phone", "unknown_country"]


def test_clean_values_have_no_flags():
    assert quality.quality_flags({"email": "a@acme.example", "phone": "+33612345678",
                                  "country": "FR"}) == []


def test_no_email_and_no_phone_is_missing_contact():
    assert quality.quality_flags({"email": "", "phone": ""}) == ["missing_contact"]


def test_invalid_email_is_flagged_without_raising():
    assert quality.quality_flags({"email": "nope@", "phone": "+33612345678"}) == [
        "invalid_email"]


def test_upsert_normalises_phone_and_country():
    lead, _ = upsert_lead({"email": "ana@acme.example", "phone": "06 12 34 56 78",
                           "country": "France"})
    lead.refresh_from_db()
    assert (lead.phone, lead.country) == ("+33612345678", "FR")
    assert lead.quality_flags == [] and lead.contact_data_incorrect is False


def test_upsert_flags_a_bad_phone_instead_of_refusing_it():
    lead, _ = upsert_lead({"email": "bo@acme.example", "phone": "call me maybe"})
    lead.refresh_from_db()
    assert lead.phone == "call me maybe"
    assert lead.quality_flags == ["invalid_phone"]
    assert lead.contact_data_incorrect is True


def test_api_unknown_country_is_a_flag_and_bad_email_still_422(api):
    r = api.post("/leads", {"email": "cy@acme.example", "country": "Asia/Pacific Region"})
    assert r.status_code == 201, r.content
    assert r.json()["country"] == ""
    assert r.json()["quality_flags"] == ["unknown_country"]
    assert api.post("/leads", {"email": "not-an-email"}).status_code == 422


def test_unknown_country_flag_survives_an_update_that_does_not_touch_it():
    upsert_lead({"email": "dee@acme.example", "country": "Narnia"})
    lead, _ = upsert_lead({"email": "dee@acme.example", "title": "CTO"})
    assert lead.quality_flags == ["unknown_country"]


def test_flag_changes_are_recorded_on_the_timeline():
    lead, _ = upsert_lead({"email": "eve@mailinator.com"})
    upsert_lead({"email": "eve@mailinator.com", "phone": "12"})
    events = list(Event.objects.filter(lead=lead, type=quality.FLAGS_CHANGED_EVENT)
                  .order_by("id").values_list("properties", flat=True))
    assert [e["flags"] for e in events] == [["disposable_email"],
                                            ["disposable_email", "invalid_phone"]]
    assert events[1]["added"] == ["invalid_phone"]


def test_fixing_the_phone_clears_the_flag():
    upsert_lead({"email": "fay@acme.example", "phone": "12"})
    lead, _ = upsert_lead({"email": "fay@acme.example", "phone": "+44 20 7946 0958"})
    assert lead.quality_flags == [] and not lead.contact_data_incorrect
    assert Lead.objects.get(pk=lead.pk).contact_data_incorrect is False


def test_list_filter_data_quality_has_problems(client, admin_user):
    upsert_lead({"email": "ok@acme.example", "first_name": "Okay"})
    upsert_lead({"email": "bad@mailinator.com", "first_name": "Flagged"})
    client.force_login(admin_user)
    body = client.get("/leads/", {"quality": "problems"}).content.decode()
    assert "Flagged" in body and "Okay" not in body
    body = client.get("/leads/", {"quality": "disposable_email"}).content.decode()
    assert "Flagged" in body and "Okay" not in body


def test_lead_page_shows_the_flags(client, admin_user):
    lead, _ = upsert_lead({"email": "gil@mailinator.com", "phone": "12"})
    client.force_login(admin_user)
    body = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "Contact data incorrect" in body
    assert "Disposable email address" in body and "Invalid phone number" in body
