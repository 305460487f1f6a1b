import pytest

pytestmark = pytest.mark.django_db


def test_post_creates_lead_and_timeline(api):
    r = api.post("/leads", {"email": " Ana@Example.COM ", "first_name": "Ana",
                            "utm_source": "google"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["email"] == "ana@example.com"
    assert body["source"] == "google"
    t = api.get(f"/leads/{body['id']}/timeline").json()
    assert [e["type"] for e in t["items"]] == ["lead_created"]


def test_post_same_email_updates(api):
    first = api.post("/leads", {"email": "bo@example.com"}).json()
    r = api.post("/leads", {"email": "BO@example.com", "title": "CTO"})
    assert r.status_code == 200
    assert r.json()["id"] == first["id"]
    assert r.json()["title"] == "CTO"


def test_invalid_email_is_422_with_field(api):
    r = api.post("/leads", {"email": "not-an-email"})
    assert r.status_code == 422
    assert r.json()["field"] == "email"


def test_missing_token_is_401(client):
    r = client.get("/api/v1/leads")
    assert r.status_code == 401
    assert "message" in r.json()
