"""The suppression list: unsubscribing puts the address on it, a confirmed double opt-in
takes an unsubscribe (only) off; admins and marketing read, search (by hash), add and
remove on /emails/suppression/ and /api/v1/emails/suppressions; after an erasure a row
keeps only the hash."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEntry
from leadflow.capture.models import Form, OptInRequest
from leadflow.capture.tests.conftest import aged_token
from leadflow.capture.tokens import optin_token
from leadflow.emails.models import Suppression
from leadflow.emails.services import unsubscribe_url
from leadflow.emails.suppression import address_hash, is_suppressed, suppress
from leadflow.leads.models import Lead
from leadflow.leads.scan import find_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user("mia", Role.MARKETING)


def _unsubscribe(lead):
    path = urlsplit(unsubscribe_url(lead, None)).path
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200


# --- unsubscribe and opt-in ----------------------------------------------------------

def test_unsubscribing_suppresses_the_address(make_lead):
    lead = make_lead("Ana@Example.com")
    _unsubscribe(lead)

    row = Suppression.objects.get()
    assert (row.reason, row.address, row.created_by) == ("unsubscribed", "ana@example.com",
                                                         None)
    assert is_suppressed("ANA@example.com")


def _subscribe_and_confirm(form) -> None:
    """Post the double opt-in form, then follow the link its confirmation email carries
    (built here: whether the outbox mails a suppressed address is not this test's)."""
    Client().post("/f/news/", {"email": "ana@example.com", "consent": "yes",
                               "lf_token": aged_token(form.pk)})
    optin = OptInRequest.objects.get(lead__email="ana@example.com", confirmed_at=None)
    path = reverse("capture:confirm", args=[optin_token(optin.pk)])
    assert Client().post(path).status_code == 200


@pytest.fixture
def form(db):
    return Form.objects.create(name="News", slug="news", title="News", double_opt_in=True,
                               consent_text="Send me news.", consent_version="v1")


def test_a_confirmed_opt_in_lifts_the_persons_unsubscribe(form, make_lead):
    lead = make_lead("ana@example.com")
    _unsubscribe(lead)
    assert is_suppressed("ana@example.com")
    suppress("other@example.com", Suppression.Reason.UNSUBSCRIBED)

    _subscribe_and_confirm(form)

    assert not is_suppressed("ana@example.com")
    assert is_suppressed("other@example.com")
    assert Lead.objects.get(pk=lead.pk).marketing_consent is True


@pytest.mark.parametrize("reason", ["hard_bounce", "complaint", "manual", "soft_bounces"])
def test_a_confirmed_opt_in_leaves_other_reasons_on_the_list(form, reason):
    suppress("ana@example.com", reason)

    _subscribe_and_confirm(form)

    assert Suppression.objects.get().reason == reason


# --- the page --------------------------------------------------------------------------

def test_the_page_lists_reason_date_and_who(client, marketer):
    suppress("bounced@example.com", Suppression.Reason.HARD_BOUNCE)
    suppress("asked@example.com", Suppression.Reason.MANUAL, user=marketer, note="phone call")
    client.force_login(marketer)

    html = client.get("/emails/suppression/").content.decode()

    assert "bounced@example.com" in html and "hard bounce" in html and "Leadflow" in html
    assert "asked@example.com" in html and "mia" in html and "phone call" in html


def test_adding_many_keeps_the_good_lines_and_reports_the_bad(client, marketer):
    suppress("known@example.com", Suppression.Reason.HARD_BOUNCE)
    client.force_login(marketer)

    r = client.post("/emails/suppression/add", {
        "addresses": "one@example.com\n  TWO@example.com \nnot an address\n\n"
                     "known@example.com\none@example.com\nthree@",
        "note": "from the old tool"})

    assert r.status_code == 200
    html = r.content.decode()
    assert "2 addresses added." in html and "2 were already on the list." in html
    assert "<code>not an address</code>" in html and "<code>three@</code>" in html
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert box.splitlines() == ["not an address", "three@"]
    added = {r.address: r for r in Suppression.objects.filter(reason="manual")}
    assert set(added) == {"one@example.com", "two@example.com"}
    assert added["two@example.com"].created_by == marketer
    assert added["two@example.com"].note == "from the old tool"
    assert Suppression.objects.get(address="known@example.com").reason == "hard_bounce"
    entry = AuditEntry.objects.get(object_type="emails.Suppression")
    assert entry.changes == {"count": 2, "reason": "manual"}
    assert "@" not in entry.object_repr


def test_searching_finds_an_address_by_its_hash_whatever_its_case(client, marketer):
    suppress("ana@example.com", Suppression.Reason.COMPLAINT)
    suppress("bob@example.com", Suppression.Reason.COMPLAINT)
    client.force_login(marketer)

    html = client.get("/emails/suppression/", {"q": " ANA@example.com "}).content.decode()
    assert "ana@example.com" in html and "bob@example.com" not in html
    html = client.get("/emails/suppression/", {"q": "ana@"}).content.decode()
    assert "ana@example.com" not in html  # no partial match on the address: only the hash
    prefix = address_hash("bob@example.com")[:10]
    html = client.get("/emails/suppression/", {"q": prefix}).content.decode()
    assert "bob@example.com" in html and "ana@example.com" not in html
    assert client.get("/emails/suppression/", {"q": "ana"}).status_code == 422


def test_removing_an_address_from_the_page(client, marketer):
    suppress("ana@example.com", Suppression.Reason.MANUAL)
    client.force_login(marketer)

    r = client.post("/emails/suppression/remove", {"hash": address_hash("ana@example.com")})

    assert r.status_code == 302 and not Suppression.objects.exists()
    entry = AuditEntry.objects.get(object_type="emails.Suppression", action="deleted")
    assert entry.changes == {"reason": "manual"} and "@" not in entry.object_repr
    assert client.post("/emails/suppression/remove", {"hash": "0" * 64}).status_code == 404


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_sales_neither_see_nor_change_the_list(client, api_for, make_user, role):
    suppress("ana@example.com", Suppression.Reason.MANUAL)
    user = make_user("sam", role)
    client.force_login(user)

    r = client.get("/emails/suppression/")
    assert r.status_code == 403 and "ana@example.com" not in r.content.decode()
    assert client.post("/emails/suppression/add",
                       {"addresses": "x@example.com"}).status_code == 403
    assert client.post("/emails/suppression/remove",
                       {"hash": address_hash("ana@example.com")}).status_code == 403
    api = api_for(user)
    assert api.get("/emails/suppressions").status_code == 403
    assert api.get("/emails/suppressions", address="ana@example.com").status_code == 403
    assert api.post("/emails/suppressions", {"addresses": ["x@example.com"]}).status_code \
        == 403
    assert list(Suppression.objects.values_list("address", flat=True)) == ["ana@example.com"]


# --- the API ---------------------------------------------------------------------------

def test_the_api_adds_with_a_result_per_address(api_for, marketer):
    suppress("known@example.com", Suppression.Reason.HARD_BOUNCE)
    api = api_for(marketer)

    r = api.post("/emails/suppressions", {
        "addresses": ["New@Example.com", "nope", "known@example.com"],
        "reason": "complaint"})

    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["added"], body["already"], body["invalid"]) == (1, 1, 1)
    assert [(x["index"], x["address"], x["status"]) for x in body["results"]] == [
        (0, "new@example.com", "added"), (1, "nope", "invalid"),
        (2, "known@example.com", "already")]
    assert body["results"][1]["message"]
    assert Suppression.objects.get(address="new@example.com").reason == "complaint"


def test_the_api_refuses_an_unknown_reason(api_for, marketer):
    r = api_for(marketer).post("/emails/suppressions",
                               {"addresses": ["a@example.com"], "reason": "bored"})
    assert (r.status_code, r.json()["field"]) == (422, "reason")
    assert not Suppression.objects.exists()


def test_the_api_lists_pages_and_checks_one_address(api_for, marketer):
    for n in range(3):
        suppress(f"p{n}@example.com", Suppression.Reason.MANUAL)
    api = api_for(marketer)

    page = api.get("/emails/suppressions", limit=2).json()
    assert page["count"] == 3 and len(page["items"]) == 2

    found = api.get("/emails/suppressions", address="P1@example.com").json()
    assert [i["address"] for i in found["items"]] == ["p1@example.com"]
    assert api.get("/emails/suppressions", address="x@example.com").json()["count"] == 0


def test_the_api_removes_by_address(api_for, marketer):
    suppress("ana@example.com", Suppression.Reason.MANUAL)
    api = api_for(marketer)

    r = api.client.delete("/api/v1/emails/suppressions?address=ANA@example.com", **api.auth)
    assert r.status_code == 204 and not Suppression.objects.exists()
    r = api.client.delete("/api/v1/emails/suppressions?address=ana@example.com", **api.auth)
    assert r.status_code == 404
    assert api.client.delete("/api/v1/emails/suppressions", **api.auth).status_code == 422
    r = api.client.delete("/api/v1/emails/suppressions?hash=%00ab", **api.auth)
    assert (r.status_code, r.json()["field"]) == (422, "hash")


# --- erasure ---------------------------------------------------------------------------

def test_after_an_erasure_only_the_hash_is_left_and_still_suppresses(
        api_for, admin_user, marketer, client, make_lead):
    lead = make_lead("zebulon.q@example.org", first_name="Zebulon")
    _unsubscribe(lead)
    suppress("zebulon.q@example.org", Suppression.Reason.MANUAL, note="Zebulon called")
    assert "emails_suppression.address" in find_text(["zebulon.q@example.org"])

    r = api_for(admin_user).post(f"/leads/{lead.pk}/erase")
    assert r.status_code == 200, r.content

    assert find_text(["zebulon.q@example.org", "Zebulon"]) == []
    assert is_suppressed("zebulon.q@example.org")
    client.force_login(marketer)
    html = client.get("/emails/suppression/").content.decode()
    digest = address_hash("zebulon.q@example.org")
    assert f"erased address (hash {digest[:12]}…)" in html
    item = api_for(marketer).get("/emails/suppressions",
                                 address="zebulon.q@example.org").json()["items"][0]
    assert (item["address"], item["address_hash"], item["reason"]) == (
        None, digest, "unsubscribed")
    r = client.post("/emails/suppression/remove", {"hash": digest})
    assert r.status_code == 302 and not Suppression.objects.exists()
