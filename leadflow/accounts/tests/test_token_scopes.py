"""Scoped API tokens: read-only (GET only), ingest-only (leads and events in, nothing out),
and an expiry date; created with `leadflow token create --scope --expires`, listed by
`leadflow token list`. All through HTTP with real tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import ApiClient
from leadflow import cli
from leadflow.accounts.models import ApiToken
from leadflow.accounts.services import create_token
from leadflow.core import clock
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db

LEAD_FIELDS = {"email", "first_name", "last_name", "phone", "company_name", "owner", "score",
               "stage", "external_id"}


def _client(user, **limits) -> ApiClient:
    return ApiClient(create_token(user, **limits)[1])


@pytest.fixture
def known_lead(make_lead):
    return make_lead("ana@example.com", first_name="Ana", phone="+33 1 23 45 67 89")


def test_a_read_only_token_reads_but_cannot_write(admin_user, known_lead):
    api = _client(admin_user, scope="read")
    assert api.get("/leads").status_code == 200
    r = api.post("/leads", {"email": "new@example.com"})
    assert r.status_code == 403 and "read only" in r.json()["message"]
    assert api.post("/events", {"events": [{"type": "page_view",
                                            "email": "ana@example.com"}]}).status_code == 403
    assert not Lead.objects.filter(email="new@example.com").exists()


def test_an_ingest_token_may_post_leads_and_events(admin_user):
    api = _client(admin_user, scope="ingest")
    r = api.post("/leads", {"email": "new@example.com", "first_name": "Nia"})
    assert r.status_code == 201 and r.json() == {"id": Lead.objects.get().pk}
    r = api.post("/leads/bulk", {"leads": [{"email": "bo@example.com"}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "created"
    r = api.post("/events", {"events": [{"type": "page_view", "email": "bo@example.com"}]})
    assert r.status_code == 200 and r.json()["created"] == 1


def test_an_ingest_token_gets_no_lead_fields_back_for_a_known_lead(admin_user, known_lead):
    api = _client(admin_user, scope="ingest")
    r = api.post("/leads", {"email": "ana@example.com", "title": "CTO"})
    assert r.status_code == 200
    assert r.json() == {"id": known_lead.pk}
    assert not LEAD_FIELDS & set(r.json())
    r = api.post("/leads/bulk", {"leads": [{"email": "ana@example.com"}]})
    assert set(r.json()["results"][0]) <= {"index", "status", "id", "message", "field"}


@pytest.mark.parametrize("path", ["/leads", "/me", "/reports/summary", "/forms",
                                  "/leads/export.csv"])
def test_an_ingest_token_cannot_read_anything(admin_user, known_lead, path):
    r = _client(admin_user, scope="ingest").get(path)
    assert r.status_code == 403 and "ingest only" in r.json()["message"]


def test_an_ingest_token_cannot_use_other_writes(admin_user, known_lead):
    r = _client(admin_user, scope="ingest").post(f"/leads/{known_lead.pk}/erase", {})
    assert r.status_code == 403
    assert Lead.objects.filter(pk=known_lead.pk, erased_at__isnull=True).exists()


def test_an_expired_token_gets_401_saying_so(admin_user):
    api = _client(admin_user, expires_at=clock.now() + timedelta(days=1))
    assert api.get("/leads").status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    r = api.get("/leads")
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_a_full_token_still_reads_and_writes(admin_user):
    api = _client(admin_user)
    assert api.post("/leads", {"email": "new@example.com"}).json()["email"] == "new@example.com"
    assert api.get("/leads").status_code == 200


def test_the_cli_creates_a_scoped_expiring_token_and_lists_it(admin_user, capsys):
    assert cli.main(["token", "create", "--user", admin_user.username, "--name", "shop",
                     "--scope", "ingest", "--expires", "2099-01-31"]) == 0
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert (token.scope, token.expires_at.date().isoformat()) == ("ingest", "2099-01-31")
    assert ApiClient(raw).get("/leads").status_code == 403
    assert cli.main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "shop\tingest\texpires 2099-01-31" in listed and raw not in listed


@pytest.mark.parametrize("argv, message", [
    (["--scope", "write"], "invalid choice: 'write'"),
    (["--expires", "next week"], "--expires must be a date"),
    (["--expires", "2001-01-01"], "The expiry must be in the future."),
])
def test_the_cli_refuses_a_bad_scope_or_expiry(admin_user, capsys, argv, message):
    with pytest.raises(SystemExit) if "scope" in argv[0] else _no_exit():
        assert cli.main(["token", "create", "--user", admin_user.username, *argv]) == 2
    assert message in capsys.readouterr().err
    assert not ApiToken.objects.exists()


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
