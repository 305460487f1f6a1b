"""One upsert: a single write (upsert_lead, POST /leads) is a batch of one through the
set-based path (bulk_upsert, POST /leads/bulk, imports), so both obey the same rules."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.accounts.models import Role
from leadflow.accounts.permissions import Actor
from leadflow.core import clock
from leadflow.core.errors import Conflict
from leadflow.leads.bulk import bulk_upsert
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead
from leadflow.routing.services import assign_lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


def _single(data, **kw):
    return upsert_lead(data, **kw)[0]


def _bulk(data, **kw):
    [result] = bulk_upsert([data], **kw)
    return result.lead


PATHS = pytest.mark.parametrize("write", [_single, _bulk], ids=["single", "bulk"])
TOUCH_FIELDS = ("channel", "source", "first_touch", "last_touch")


@pytest.mark.parametrize("via, channel", [(Event.Via.API, "api"),
                                          (Event.Via.IMPORT, "import"),
                                          (Event.Via.UI, "other")])
def test_both_paths_create_the_same_lead_with_the_same_channel_default(via, channel):
    data = {"first_name": "Ana", "source": "webinar", "country": "France"}
    one = _single({"email": "one@example.com", **data}, via=via)
    other = _bulk({"email": "two@example.com", **data}, via=via)

    one, other = Lead.objects.get(pk=one.pk), Lead.objects.get(pk=other.pk)
    assert [getattr(one, f) for f in TOUCH_FIELDS] == [getattr(other, f) for f in TOUCH_FIELDS]
    assert one.channel == channel
    for lead in (one, other):
        assert lead.first_touch_at == lead.last_touch_at == lead.created_at
    assert (one.country, one.quality_flags) == (other.country, other.quality_flags) == ("FR", [])
    assert (sorted(one.events.values_list("type", flat=True))
            == sorted(other.events.values_list("type", flat=True)) == ["lead_created"])


@PATHS
def test_the_same_touch_again_neither_moves_the_last_touch_nor_records_anything(write):
    lead = write({"email": "ana@example.com", "source": "webinar"})
    first = Lead.objects.get(pk=lead.pk).last_touch_at
    events = Event.objects.count()
    clock.advance(timedelta(days=2))

    write({"email": "ana@example.com", "source": "webinar"})

    assert Lead.objects.get(pk=lead.pk).last_touch_at == first
    assert Event.objects.count() == events


@PATHS
def test_a_new_touch_moves_the_last_touch_and_keeps_the_first(write):
    lead = write({"email": "ana@example.com", "source": "webinar"})
    clock.advance(timedelta(days=2))

    write({"email": "ana@example.com", "source": "newsletter"})

    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.source, lead.first_touch["source"], lead.last_touch) == (
        "webinar", "webinar", {"source": "newsletter"})
    assert lead.last_touch_at - lead.first_touch_at >= timedelta(days=2)


@PATHS
def test_an_update_writes_only_the_columns_it_changes(write, make_lead):
    """A write of the whole row would put back the score read before it: a score that
    another request added meanwhile would be lost."""
    make_lead("ana@example.com")

    with CaptureQueriesContext(connection) as ctx:
        write({"email": "ana@example.com", "first_name": "Ana"})

    updates = [q["sql"] for q in ctx.captured_queries
               if re.search(r'\bUPDATE "?leads_lead\b', q["sql"])]
    assert updates and not any(re.search(r'"score"', sql) for sql in updates)
    assert Lead.objects.get().first_name == "Ana"


@PATHS
def test_a_public_channel_fills_only_empty_fields(write, make_lead):
    make_lead("ana@example.com", first_name="Ana", phone="+33612345678")

    write({"email": "ana@example.com", "first_name": "Mallory", "phone": "+33699999999",
           "company_name": "Acme"}, actor=Actor.public("form:contact"))

    lead = Lead.objects.get()
    assert (lead.first_name, lead.phone, lead.company_name) == ("Ana", "+33612345678", "Acme")


def test_one_leads_email_with_another_leads_external_id_is_a_clear_409(api, make_lead):
    make_lead("ana@example.com")
    make_lead("bo@example.com", external_id="crm-2")

    resp = api.post("/leads", {"email": "ana@example.com", "external_id": "crm-2",
                               "first_name": "Who"})

    assert resp.status_code == 409
    assert resp.json()["field"] == "external_id"
    assert resp.json()["message"].startswith(
        "The email ana@example.com and the external_id crm-2 belong to two different leads")
    assert not Lead.objects.filter(first_name="Who").exists()


def test_the_same_clash_in_bulk_is_a_per_row_conflict(api, make_lead):
    make_lead("ana@example.com")
    make_lead("bo@example.com", external_id="crm-2")

    body = api.post("/leads/bulk", {"leads": [
        {"email": "ana@example.com", "external_id": "crm-2", "first_name": "Who"},
        {"email": "cy@example.com"}]}).json()

    assert [(r["status"], r["id"], r["field"]) for r in body["results"]][0] == (
        "conflict", None, "external_id")
    assert "two different leads" in body["results"][0]["message"]
    assert (body["conflicts"], body["created"]) == (1, 1)
    assert not Lead.objects.filter(first_name="Who").exists()


def test_a_chunk_with_conflicts_takes_a_bounded_number_of_queries(
        django_assert_max_num_queries, make_lead, make_user):
    rep, other = make_user("rita", Role.SALES_REP), make_user("oscar", Role.SALES_REP)
    for i in range(50):
        assign_lead(make_lead(f"theirs{i}@example.com"), other)
    for i in range(50):
        assign_lead(make_lead(f"mine{i}@example.com"), rep)
    rows = ([{"email": f"theirs{i}@example.com", "city": "Lyon"} for i in range(50)]
            + [{"email": f"mine{i}@example.com", "city": "Lyon"} for i in range(50)]
            + [{"email": f"new{i}@example.com"} for i in range(400)])

    with django_assert_max_num_queries(30):
        results = bulk_upsert(rows, actor=rep)

    statuses = [r.status for r in results]
    assert statuses.count("conflict") == 50 and statuses.count("created") == 400
    assert Lead.objects.filter(city="Lyon", owner=rep).count() == 50
    assert Event.objects.filter(type="change_proposed").count() == 50


def test_upsert_lead_raises_conflict_for_another_reps_lead(make_user, make_lead):
    lead = make_lead("ana@example.com")
    assign_lead(lead, make_user("oscar", Role.SALES_REP))

    with pytest.raises(Conflict, match="handled by another rep"):
        upsert_lead({"email": "ana@example.com", "first_name": "X"},
                    actor=make_user("rita", Role.SALES_REP))


def test_an_import_row_naming_two_leads_is_in_the_error_report(make_lead, tmp_path,
                                                               settings):
    from leadflow.imports.services import import_path

    settings.MEDIA_ROOT = tmp_path / "media"
    make_lead("ana@example.com")
    make_lead("bo@example.com", external_id="crm-2")
    path = tmp_path / "leads.csv"
    path.write_text("email,external_id,first_name\nana@example.com,crm-2,Who\n")

    report = import_path(path)

    [error] = report.errors
    assert (error.line, error.field) == (2, "external_id")
    assert "two different leads" in error.message
    assert not Lead.objects.filter(first_name="Who").exists()
