"""Static lists of leads: made and filled by hand (pasted ids and addresses, a CSV file)
and through /api/v1/lists, always within the person's lead scope: a rep adds, sees,
counts and removes only their own leads, and learns nothing of the others."""

import json

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.core.errors import Forbidden
from leadflow.leads.models import Lead
from leadflow.lists import services
from leadflow.lists.models import ListMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, make_lead):
    """A marketer, two reps, and a lead of each rep's plus one nobody owns."""
    marketer = make_user("mia", Role.MARKETING)
    rita, sam = make_user("rita"), make_user("sam")
    leads = {name: make_lead(f"{name}@example.com") for name in ("r1", "r2", "s1", "free")}
    Lead.objects.filter(pk__in=[leads["r1"].pk, leads["r2"].pk]).update(owner=rita)
    Lead.objects.filter(pk=leads["s1"].pk).update(owner=sam)
    return marketer, rita, sam, leads


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _members(lead_list) -> set[int]:
    return set(ListMember.objects.filter(list=lead_list).values_list("lead_id", flat=True))


def test_a_marketer_fills_a_list_by_pasting_ids_and_addresses(people):
    marketer, _, _, leads = people
    client = _client(marketer)
    r = client.post("/lists/", {"name": "Newsletter", "description": "Monthly"})
    lead_list = services.LeadList.objects.get(name="Newsletter")
    assert r.status_code == 302 and r["Location"] == f"/lists/{lead_list.pk}/"

    r = client.post(f"/lists/{lead_list.pk}/add", {
        "leads": f"R1@Example.com, {leads['s1'].pk}\nnobody@example.com\nnot-an-address"},
        follow=True)

    assert _members(lead_list) == {leads["r1"].pk, leads["s1"].pk}
    page = r.content.decode()
    assert "2 leads added." in page
    assert "nobody@example.com" in page and "not-an-address" in page
    assert "r1@example.com" in page and "s1@example.com" in page


def test_a_csv_file_of_addresses_adds_its_leads_once(people):
    marketer, _, _, leads = people
    lead_list = services.create_list(marketer, name="Event")
    services.add_members(marketer, lead_list, lead_ids=[leads["free"].pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("leads.csv", b"\xef\xbb\xbfemail\nr1@example.com\n"
                                b"free@example.com\nr1@example.com\n", "text/csv")
    r = _client(marketer).post(f"/lists/{lead_list.pk}/add", {"file": upload}, follow=True)

    assert _members(lead_list) == {leads["r1"].pk, leads["free"].pk}
    page = r.content.decode()
    assert "1 lead added. 2 were on the list already.<" in page


def test_a_rep_adds_only_their_own_leads_and_others_answer_as_unknown(people):
    marketer, rita, _, leads = people
    lead_list = services.create_list(marketer, name="Webinar")

    changes = services.add_members(rita, lead_list, lead_ids=[leads["r1"].pk, leads["s1"].pk],
                                   emails=["free@example.com", "ghost@example.com"])

    assert [(r.value, r.status) for r in changes.results] == [
        (str(leads["r1"].pk), "added"), (str(leads["s1"].pk), "not_found"),
        ("free@example.com", "not_found"), ("ghost@example.com", "not_found")]
    # Nothing tells the other rep's lead apart from a lead that does not exist.
    assert {r.lead_id for r in changes.results if r.status == "not_found"} == {None}
    assert _members(lead_list) == {leads["r1"].pk}


def test_a_rep_sees_and_counts_only_their_own_members(people):
    marketer, rita, sam, leads = people
    lead_list = services.create_list(marketer, name="Everyone")
    services.add_members(marketer, lead_list, lead_ids=[lead.pk for lead in leads.values()])

    counts = {u.username: services.lists_with_counts(u).get(pk=lead_list.pk).member_count
              for u in (marketer, rita, sam)}
    assert counts == {"mia": 4, "rita": 2, "sam": 1}
    page = _client(rita).get(f"/lists/{lead_list.pk}/").content.decode()
    assert "r1@example.com" in page and "r2@example.com" in page
    assert "s1@example.com" not in page and "free@example.com" not in page
    assert "2 members you may see" in page
    index = _client(sam).get("/lists/").content.decode()
    assert '<td class="num">1</td>' in index and '<td class="num">4</td>' not in index


def test_a_rep_cannot_remove_another_reps_lead_from_a_list(people):
    marketer, rita, _, leads = people
    lead_list = services.create_list(marketer, name="Everyone")
    services.add_members(marketer, lead_list, lead_ids=[leads["r1"].pk, leads["s1"].pk])

    r = _client(rita).post(f"/lists/{lead_list.pk}/remove",
                           {"lead": [leads["r1"].pk, leads["s1"].pk]})

    assert r.status_code == 302
    assert _members(lead_list) == {leads["s1"].pk}


def test_only_the_creator_or_marketing_renames_or_deletes_a_list(people):
    marketer, rita, sam, leads = people
    ritas = services.create_list(rita, name="Rita's")
    with pytest.raises(Forbidden):
        services.update_list(sam, ritas, name="Sam's now")
    assert _client(sam).post(f"/lists/{ritas.pk}/delete").status_code == 403

    services.update_list(rita, ritas, name="Rita's hot leads")
    services.delete_list(marketer, ritas)

    assert not services.LeadList.objects.filter(pk=ritas.pk).exists()
    assert Lead.objects.filter(pk=leads["r1"].pk).exists()


def test_the_api_creates_fills_reads_and_empties_a_list(people, api_for):
    marketer, _, _, leads = people
    api = api_for(marketer)
    r = api.post("/lists", {"name": "Customers", "description": "Paying"})
    assert r.status_code == 201, r.content
    list_id = r.json()["id"]
    assert api.post("/lists", {"name": "Customers"}).status_code == 409

    r = api.post(f"/lists/{list_id}/members",
                 {"lead_ids": [leads["r1"].pk, 2**62], "emails": ["S1@example.com", "x"]})

    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["added"], body["not_found"], body["invalid"]) == (2, 1, 1)
    assert [i["status"] for i in body["results"]] == ["added", "not_found", "added", "invalid"]
    assert api.get(f"/lists/{list_id}").json()["members"] == 2
    listed = api.get(f"/lists/{list_id}/members").json()
    assert {m["email"] for m in listed["items"]} == {"r1@example.com", "s1@example.com"}

    r = api.client.delete(f"/api/v1/lists/{list_id}/members",
                          json.dumps({"lead_ids": [leads["r1"].pk, leads["free"].pk]}),
                          content_type="application/json", **api.auth)
    assert r.status_code == 200, r.content
    assert [i["status"] for i in r.json()["results"]] == ["removed", "not_member"]

    r = api.client.patch(f"/api/v1/lists/{list_id}", json.dumps({"name": "Buyers"}),
                         content_type="application/json", **api.auth)
    assert r.json()["name"] == "Buyers"
    r = api.client.delete(f"/api/v1/lists/{list_id}", **api.auth)
    assert r.status_code == 204
    assert api.get(f"/lists/{list_id}").status_code == 404


def test_the_api_counts_and_lists_a_reps_members_only(people, api_for):
    marketer, rita, _, leads = people
    lead_list = services.create_list(marketer, name="Everyone")
    services.add_members(marketer, lead_list, lead_ids=[lead.pk for lead in leads.values()])
    api = api_for(rita)

    assert api.get(f"/lists/{lead_list.pk}").json()["members"] == 2
    assert [row["members"] for row in api.get("/lists").json()["items"]] == [2]
    emails = {m["email"] for m in api.get(f"/lists/{lead_list.pk}/members").json()["items"]}
    assert emails == {"r1@example.com", "r2@example.com"}
    r = api.post(f"/lists/{lead_list.pk}/members", {"emails": ["s1@example.com"]})
    assert r.json()["results"][0] == {"value": "s1@example.com", "status": "not_found",
                                      "lead_id": None}


def test_adding_many_leads_takes_a_few_queries(people, django_assert_max_num_queries,
                                               make_lead):
    marketer = people[0]
    ids = [make_lead(f"bulk{i}@example.com").pk for i in range(60)]
    lead_list = services.create_list(marketer, name="Bulk")

    with django_assert_max_num_queries(8):
        changes = services.add_members(marketer, lead_list, lead_ids=ids,
                                       emails=[f"bulk{i}@example.com" for i in range(60)])

    assert changes.count("added") == 60 and changes.count("already") == 60
    assert len(_members(lead_list)) == 60


def test_a_lead_merged_into_one_on_the_same_list_stays_on_it_once(people, admin_user):
    from leadflow.leads.merge import merge_leads, undo_merge

    marketer, _, _, leads = people
    lead_list = services.create_list(marketer, name="Both")
    services.add_members(marketer, lead_list, lead_ids=[leads["r1"].pk, leads["free"].pk])

    audit = merge_leads(leads["r1"], leads["free"], actor=admin_user)
    assert _members(lead_list) == {leads["r1"].pk}

    undo_merge(audit, actor=admin_user)
    assert _members(lead_list) == {leads["r1"].pk, leads["free"].pk}
