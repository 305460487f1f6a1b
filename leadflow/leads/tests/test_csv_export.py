import csv
import io

import pytest
from django.http import StreamingHttpResponse

from leadflow.accounts.models import Role
from leadflow.core.csvsafe import safe_cell
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead

pytestmark = pytest.mark.django_db


def rows(response):
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tcmd", "\rcmd"])
def test_formula_starts_are_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_plain_values_and_numbers_are_unchanged():
    assert safe_cell("Ana") == "Ana" and safe_cell(-5) == "-5" and safe_cell(None) == ""


def test_ui_export_streams_neutralised_cells(client, admin_user):
    upsert_lead({"email": "ana@acme.example", "first_name": "=cmd|' /C calc'!A0",
                 "company_name": "@evil"})
    client.force_login(admin_user)
    response = client.get("/leads/export.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    [row] = rows(response)
    assert row["first_name"] == "'=cmd|' /C calc'!A0"
    assert row["company_name"] == "'@evil"
    assert row["email"] == "ana@acme.example"


def test_a_rep_exports_only_their_own_leads(client, api_for, make_user):
    rep = make_user("rita", Role.SALES_REP)
    mine, _ = upsert_lead({"email": "mine@acme.example"})
    upsert_lead({"email": "other@acme.example"})
    Lead.objects.filter(pk=mine.pk).update(owner=rep)
    client.force_login(rep)
    assert [r["email"] for r in rows(client.get("/leads/export.csv"))] == [
        "mine@acme.example"]
    api_rows = rows(api_for(rep).get("/leads/export.csv"))
    assert [r["email"] for r in api_rows] == ["mine@acme.example"]


def test_export_follows_the_list_filters(client, admin_user):
    upsert_lead({"email": "ok@acme.example", "source": "google"})
    upsert_lead({"email": "bad@mailinator.com", "source": "fair"})
    client.force_login(admin_user)
    assert [r["email"] for r in rows(client.get("/leads/export.csv",
                                                {"quality": "problems"}))] == [
        "bad@mailinator.com"]
    assert [r["email"] for r in rows(client.get("/leads/export.csv",
                                                {"source": "google"}))] == ["ok@acme.example"]


def test_api_export_rejects_bad_filters_with_422(api):
    r = api.get("/leads/export.csv", quality="nonsense")
    assert r.status_code == 422 and r.json()["field"] == "quality"


def test_erased_leads_are_not_exported(api, admin_user):
    lead, _ = upsert_lead({"email": "gone@acme.example"})
    api.post(f"/leads/{lead.pk}/erase")
    assert rows(api.get("/leads/export.csv")) == []
