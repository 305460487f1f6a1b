"""API errors: every bad input gets a JSON answer with a message (and the field); never a 500."""

import pytest
from django.test import Client

from leadflow.accounts.models import ApiToken
from leadflow.accounts.services import create_token
from leadflow.leads.models import CustomFieldDefinition, Lead

pytestmark = pytest.mark.django_db


def _post_raw(api, path: str, body: str):
    return api.client.post("/api/v1" + path, body, content_type="application/json",
                           **api.auth)


def _assert_error(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert body["field"] == field, body
    return body


@pytest.mark.parametrize("raw", ['{"email": "a@example.com"', "not json", "\xff\xfe",
                                 '{"email": "a@example.com",}'])
def test_a_body_that_is_not_json_is_422_naming_the_body(api, raw):
    _assert_error(_post_raw(api, "/leads", raw), 422, "body")
    assert not Lead.objects.exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": 123}, "email"),
    ({"email": "a@example.com", "first_name": {"nested": "object"}}, "first_name"),
    ({"email": "a@example.com", "do_not_email": "perhaps"}, "do_not_email"),
    ({"email": "a@example.com", "custom": ["not", "an", "object"]}, "custom"),
])
def test_wrong_types_are_422_with_the_field(api, payload, field):
    body = _assert_error(api.post("/leads", payload), 422, field)
    assert field in body["message"]
    assert not Lead.objects.exists()


def test_a_json_array_instead_of_an_object_is_422(api):
    _assert_error(_post_raw(api, "/leads", "[1, 2, 3]"), 422)


def test_wrong_types_inside_an_event_batch_name_the_item(api):
    _assert_error(api.post("/events", {"events": [{"type": "page_view", "lead_id": "abc"}]}),
                  422, "events.0.lead_id")
    _assert_error(api.post("/events", {"events": "page_view"}), 422, "events")
    _assert_error(api.post("/events", {}), 422, "events")


def test_an_unknown_lead_is_404_json(api):
    for path in ("/leads/424242", "/leads/424242/timeline"):
        body = _assert_error(api.get(path), 404)
        assert "424242" in body["message"]
    _assert_error(api.post("/leads/424242/outcome", {"outcome": "won"}), 404)


def test_a_lead_id_beyond_any_integer_column_is_404_not_500(api):
    huge = 2**70
    _assert_error(api.get(f"/leads/{huge}"), 404)
    r = api.post("/events", {"events": [{"type": "page_view", "lead_id": huge}]})
    assert r.status_code == 200, r.content
    assert r.json()["results"][0]["status"] == "error"


def test_a_lead_id_that_is_not_a_number_is_422(api):
    _assert_error(api.get("/leads/abc"), 422, "lead_id")


def test_without_a_token_the_api_answers_401_json(client):
    for r in (client.get("/api/v1/leads"), client.post("/api/v1/events", {},
                                                       content_type="application/json")):
        body = _assert_error(r, 401)
        assert "Bearer" in body["message"]


@pytest.mark.parametrize("header", ["Bearer lf_not-a-real-token", "Bearer ", "Basic abc",
                                    "lf_token-without-scheme"])
def test_a_bad_token_is_401_json(client, header):
    _assert_error(client.get("/api/v1/leads", HTTP_AUTHORIZATION=header), 401)


def test_a_revoked_token_or_an_inactive_user_is_401(make_user):
    user = make_user("rita")
    token, raw = create_token(user)
    ok = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok.status_code == 200 and ok.json()["username"] == "rita"

    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    _assert_error(Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401)

    _, raw2 = create_token(user)
    user.is_active = False
    user.save()
    _assert_error(Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw2}"), 401)


def test_the_x_api_key_header_is_accepted(make_user):
    _, raw = create_token(make_user("rita"))
    r = Client().get("/api/v1/me", HTTP_X_API_KEY=raw)
    assert r.status_code == 200 and r.json()["username"] == "rita"


def test_the_openapi_schema_and_the_docs_answer(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/leads" in paths and "/api/v1/events" in paths
    assert client.get("/api/v1/docs").status_code == 200


def test_no_two_api_schemas_share_a_name():
    # The OpenAPI document names each response schema by its class name: two classes of
    # one name become one component, and an endpoint then documents the other's fields.
    from ninja import Schema

    from leadflow.server.api import api

    api.get_openapi_schema()  # imports every router
    seen: dict[str, str] = {}
    clashes = []

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("leadflow."):
                where = f"{sub.__module__}.{sub.__qualname__}"
                if seen.setdefault(sub.__name__, where) != where:
                    clashes.append((sub.__name__, seen[sub.__name__], where))
            walk(sub)

    walk(Schema)
    assert clashes == []


def test_an_unknown_custom_field_is_422_naming_it(api):
    body = _assert_error(api.post("/leads", {"email": "a@example.com", "custom": {"x": 1}}),
                         422, "custom.x")
    assert "'x'" in body["message"]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(("kind", "bad", "good"), [
    (CustomFieldDefinition.Type.NUMBER, "12", 12),
    (CustomFieldDefinition.Type.NUMBER, True, 3.5),
    (CustomFieldDefinition.Type.BOOLEAN, "yes", False),
    (CustomFieldDefinition.Type.TEXT, {"nested": "object"}, "fine"),
    (CustomFieldDefinition.Type.DATE, "next tuesday", "2026-05-04"),
    (CustomFieldDefinition.Type.CHOICE, "huge", "small"),
])
def test_a_custom_field_of_the_wrong_type_is_422(api, kind, bad, good):
    CustomFieldDefinition.objects.create(key="size", label="Size", type=kind,
                                         choices=["small", "large"])
    _assert_error(api.post("/leads", {"email": "a@example.com", "custom": {"size": bad}}),
                  422, "custom.size")
    r = api.post("/leads", {"email": "a@example.com", "custom": {"size": good}})
    assert r.status_code == 201, r.content
    assert r.json()["custom"] == {"size": good}


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": "a@example.com", "first_name": "x" * 1_000_000}, "first_name"),
    ({"email": "a" * 250 + "@example.com"}, "email"),
    ({"email": "a@" + "b" * 400 + ".com"}, "email"),
    ({"email": "a@example.com", "language": "fr-FR-x-very-long"}, "language"),
    ({"email": "a@example.com", "external_id": "e" * 101}, "external_id"),
    ({"email": "a@example.com", "channel": "carrier-pigeon"}, "channel"),
    ({"email": "a@example.com", "custom": {"x" * 10_000: 1}}, None),
    ({"email": "a@example.com", "first_name": "nul\u0000byte"}, "first_name"),
    ({"email": "a@example.com", "custom": {"k": "nul\u0000"}}, "custom.k"),
])
def test_hostile_lead_payloads_are_422_not_500(api, payload, field):
    _assert_error(api.post("/leads", payload), 422, field)
    assert not Lead.objects.exists()


def test_hostile_event_items_are_item_errors_not_500(api):
    lead = Lead.objects.create(email="a@example.com", created_at="2026-01-01T00:00Z",
                               updated_at="2026-01-01T00:00Z")
    deep: dict = {}
    node = deep
    for _ in range(50):
        node["d"] = {}
        node = node["d"]
    r = api.post("/events", {"events": [
        {"type": "t" * 10_000, "lead_id": lead.pk},
        {"type": "page_view", "lead_id": lead.pk, "properties": {"blob": "x" * 20_000}},
        {"type": "page_view", "lead_id": lead.pk, "idempotency_key": "k" * 500},
        {"type": "page_view", "lead_id": lead.pk, "properties": {"nul": "a\u0000b"}},
        {"type": "page\u0000view", "lead_id": lead.pk},
        {"type": "page_view", "email": "x" * 5_000},
        {"type": "page_view", "external_id": "crm\u0000-1"},
        {"type": "page_view", "lead_id": lead.pk, "properties": deep},
    ]})
    assert r.status_code == 200, r.content
    assert [x["status"] for x in r.json()["results"]] == ["error"] * 7 + ["created"]


def test_a_body_nested_too_deep_to_parse_is_422(api):
    deep = '{"properties": ' * 100_000 + "{}" + "}" * 100_000
    _assert_error(_post_raw(api, "/events", deep), 422, "body")


def test_hostile_query_parameters_are_answered_without_a_500(api):
    Lead.objects.create(email="a@example.com", created_at="2026-01-01T00:00Z",
                        updated_at="2026-01-01T00:00Z")
    assert api.get("/leads", q="x" * 10_000).json()["count"] == 0
    assert api.get("/leads", q="a\u0000b").status_code == 422
    _assert_error(api.get("/leads", owner="'; DROP TABLE leads_lead; --"), 422, "owner")
    _assert_error(api.get("/leads", sort="password"), 422, "sort")
    _assert_error(api.get("/leads", limit=-1), 422)
    assert Lead.objects.count() == 1


def test_a_nul_byte_in_free_text_is_dropped_not_a_500(api):
    lead = Lead.objects.create(email="a@example.com", created_at="2026-01-01T00:00Z",
                               updated_at="2026-01-01T00:00Z")
    r = api.post(f"/leads/{lead.pk}/outcome", {"outcome": "lost", "reason": "no\u0000budget"})
    assert r.status_code == 200, r.content
    assert lead.events.get(type="lost").properties["reason"] == "nobudget"
