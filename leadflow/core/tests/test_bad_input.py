"""Bad input gets a 4xx with a clear message, never a 500 nor a Python repr stored; the
OpenAPI schema lists each endpoint's 4xx answers."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.core.params import MAX_ID
from leadflow.imports.models import ImportJob
from leadflow.leads.models import Lead
from leadflow.server.tests.test_api_errors import _assert_error as _error
from leadflow.tracking.models import Event, TrackingSite

pytestmark = pytest.mark.django_db

# "³".isdigit() is True in Python and int("³") fails; the others are past 64 bits, or
# past the 4,300 digits int() accepts.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"
BAD_IDS = ["³", "٣", str(MAX_ID + 1), "9" * 5000, "-1", "0", "1.5"]


@pytest.fixture
def lead(db):
    return Lead.objects.create(email="ana@example.com", created_at="2026-01-01T00:00Z",
                               updated_at="2026-01-01T00:00Z")


@pytest.mark.parametrize("owner", BAD_IDS)
@pytest.mark.parametrize("path", ["/leads", "/leads/export.csv"])
def test_an_owner_that_is_not_a_user_id_is_422_in_the_api_lists_and_export(api, lead, path,
                                                                           owner):
    body = _error(api.get(path, owner=owner), 422, "owner")
    assert "owner" in body["message"]


@pytest.mark.parametrize("path", ["/leads/", "/leads/export.csv"])
def test_an_owner_that_is_not_a_user_id_is_422_on_the_list_page_and_its_export(
        client, admin_user, lead, path):
    client.force_login(admin_user)
    for owner in ("³", "9" * 30):
        r = client.get(path, {"owner": owner})
        assert r.status_code == 422
        assert "owner" in r.content.decode()
    assert client.get(path, {"owner": str(admin_user.pk)}).status_code == 200


def test_a_mapping_id_that_is_not_a_number_is_answered_without_a_500(client, admin_user,
                                                                   settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(admin_user)
    client.post("/imports/", {"file": SimpleUploadedFile("a.csv", b"email\na@example.com\n")})
    job = ImportJob.objects.get()
    assert client.get(f"/imports/{job.pk}/map/", {"mapping": "³"}).status_code == 200
    assert client.get(f"/imports/{job.pk}/map/", {"mapping": "9" * 30}).status_code == 422


@pytest.mark.parametrize("param", ["offset", "limit"])
@pytest.mark.parametrize("value", [2**64, 2**63, -1, 10**13])
def test_offset_and_limit_out_of_range_are_422_on_every_list(api, lead, param, value):
    for path in ("/leads", "/leads/duplicates", f"/leads/{lead.pk}/timeline"):
        _error(api.get(path, **{param: value}), 422, param)


def test_the_largest_offset_and_limit_answer_an_empty_page(api, lead):
    from leadflow.core.params import MAX_LIMIT, MAX_OFFSET

    r = api.get("/leads", offset=MAX_OFFSET, limit=MAX_LIMIT)
    assert r.status_code == 200
    assert r.json() == {"items": [], "count": 1}


@pytest.fixture
def form(db):
    # No fields configured: it asks email, first_name, last_name and company_name.
    return Form.objects.create(name="Demo", slug="demo", title="Ask for a demo",
                               event_type="demo_requested")


def _submit(form, values: dict):
    body = {**values, "lf_token": aged_token(form.pk)}
    return Client().post(f"/f/{form.slug}/submit", json.dumps(body),
                         content_type="application/json", REMOTE_ADDR="203.0.113.7")


@pytest.mark.parametrize(("name", "value"), [
    ("company_name", {"a": 1}), ("company_name", ["x", {"a": 1}]), ("first_name", ["a", ["b"]]),
    ("email", {"a": "ana@example.com"}), ("utm_source", {"a": 1}),
    ("page_url", {"a": 1}), ("lf_vid", [1, 2]),
])
def test_an_object_or_list_in_a_form_text_field_is_422_and_nothing_is_stored(form, name,
                                                                           value):
    r = _submit(form, {"email": "ana@example.com", name: value})
    body = _error(r, 422, name)
    assert "text" in body["message"]
    assert not Lead.objects.exists()


def test_a_number_in_a_form_text_field_is_kept_as_text(form):
    assert _submit(form, {"email": "ana@example.com", "company_name": 42}).status_code == 200
    assert Lead.objects.get().company_name == "42"


def test_an_object_as_a_page_title_in_a_beacon_is_rejected_not_stored_as_text(db):
    site = TrackingSite.objects.create(name="Shop", key="lf_shopkey",
                                       allowed_domains="example.com")
    page = {"type": "page_view", "key": "k1",
            "props": {"url": "https://shop.example.com/", "title": {"a": 1}}}
    body = {"site": site.key, "vid": "vid_AAAAAAAAAAAAAAAAAAAA", "consent": True,
            "events": [page]}
    r = Client().post("/t/collect", json.dumps(body), content_type="text/plain",
                      headers={"Origin": "https://shop.example.com", "User-Agent": BROWSER})
    assert r.status_code < 500, r.content
    assert r.json()["rejected"] == 1, r.content
    assert not Event.objects.filter(type="page_view").exists()


def test_an_oversized_api_body_is_a_json_413_naming_the_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    events = [{"type": "page_view", "visitor_id": "v", "properties": {"x": "y" * 100}}] * 200
    for path in ("/events", "/leads", "/leads/bulk"):
        r = api.client.post("/api/v1" + path, json.dumps({"events": events}),
                            content_type="application/json", **api.auth)
        body = _error(r, 413, "body")
        assert "10,000 bytes" in body["message"]
    assert not Event.objects.exists()


def test_an_oversized_form_encoded_api_body_is_a_json_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    r = api.client.post("/api/v1/leads", "email=" + "a" * 5000,
                        content_type="application/x-www-form-urlencoded", **api.auth)
    _error(r, 413, "body")


def test_the_openapi_schema_lists_each_endpoints_error_answers(client):
    schema = client.get("/api/v1/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    assert set(schema["components"]["schemas"]["ErrorOut"]["properties"]) >= {
        "message", "field"}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            answers = operation["responses"]
            for status in ("401", "403"):
                assert answers[status]["content"]["application/json"]["schema"] == error, (
                    method, path, status)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in answers, (method, path)
            if "{" in path:
                assert "404" in answers, (method, path)
            if "requestBody" in operation:
                assert "413" in answers, (method, path)
    upsert = schema["paths"]["/api/v1/leads"]["post"]["responses"]
    assert {"200", "201", "409", "413", "422"} <= set(upsert)
    export = schema["paths"]["/api/v1/leads/export.csv"]["get"]["responses"]["200"]
    assert list(export["content"]) == ["text/csv"]


@pytest.mark.parametrize(("given", "stored"), [
    ("2026-05-01T10:00:00-16:27", "2026-05-02T02:27:00+00:00"),  # PostgreSQL stops at 15:59
    ("2026-05-01T10:00:00+14:00", "2026-04-30T20:00:00+00:00"),
])
def test_an_event_time_with_any_offset_is_stored_in_utc(api, lead, given, stored):
    r = api.post("/events", {"events": [{"type": "demo", "lead_id": lead.pk,
                                         "occurred_at": given}]})
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1, r.content
    assert Event.objects.get(type="demo").occurred_at.isoformat() == stored


@pytest.mark.parametrize("given", ["9999-12-31T23:00:00-05:00", "0001-01-01T01:00:00+02:00"])
def test_an_event_time_that_leaves_the_calendar_in_utc_is_an_item_error(api, lead, given):
    r = api.post("/events", {"events": [{"type": "demo", "lead_id": lead.pk,
                                         "occurred_at": given}]})
    assert r.status_code == 200, r.content
    result = r.json()["results"][0]
    assert result["status"] == "error"
    assert "occurred_at is out of range" in result["message"]


def test_a_file_whose_header_holds_a_nul_is_422_naming_the_file(api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("leads.csv", b"email,na\x00me\na@example.com,Ana\n")
    r = api.client.post("/api/v1/imports", {"file": upload}, **api.auth)
    body = _error(r, 422, "file")
    assert "NUL" in body["message"]
    assert not ImportJob.objects.exists()
    assert not list((tmp_path / "imports").rglob("*.csv"))


def test_a_mapping_holding_a_nul_is_422_naming_the_mapping(api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("leads.csv", b"email\na@example.com\n")
    mapping = json.dumps({"columns": {"email": "email", "x\x00": "first_name"}})
    r = api.client.post("/api/v1/imports", {"file": upload, "mapping": mapping}, **api.auth)
    _error(r, 422, "mapping")
    assert not ImportJob.objects.exists()


def test_a_custom_field_name_holding_a_nul_is_422_not_a_database_error(api):
    body = _error(api.post("/leads", {"email": "b@example.com", "custom": {"k\x00": 1}}),
                  422, "custom.k\x00")
    assert "Unknown custom field" in body["message"]
    assert not Lead.objects.exists()
