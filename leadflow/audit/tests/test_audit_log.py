"""The audit log: who changed which configuration (scoring rule, form, role, token...),
when, from what to what; security events; readable by administrators only, on a page and
through the API."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import ApiClient
from leadflow import cli
from leadflow.accounts.models import ApiToken, Role
from leadflow.accounts.services import create_token
from leadflow.audit.models import AuditEntry
from leadflow.capture.models import Form
from leadflow.scoring.models import ScoreRule

pytestmark = pytest.mark.django_db


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_scoring_rule_change_records_who_and_from_what_to_what(admin_user):
    rule = ScoreRule.objects.create(name="Demo", event_type="demo_requested", points=10)
    r = _browser(admin_user).post(f"/admin/scoring/scorerule/{rule.pk}/change/", {
        "name": "Demo", "event_type": "demo_requested", "conditions": "[]", "points": "25",
        "category": rule.category, "group": rule.group_id, "kind": "event", "active": "on"},
        REMOTE_ADDR="198.51.100.4")
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="changed")
    assert (entry.kind, entry.actor, entry.object_type, entry.object_id) == (
        "config", admin_user, "scoring.ScoreRule", str(rule.pk))
    assert entry.changes == {"points": [10, 25]}
    assert entry.ip == "198.51.100.4"


def test_a_form_edited_in_the_builder_is_recorded_with_its_editor(make_user):
    mia = make_user("mia", Role.MARKETING)
    form = Form.objects.create(name="Demo", slug="demo", title="Ask for a demo")
    r = _browser(mia).post(f"/forms/{form.pk}/", {
        "name": "Demo", "slug": "demo", "title": "Book a demo", "channel": "web",
        "event_type": ""})
    assert r.status_code == 302
    entry = AuditEntry.objects.get(action="changed", object_type="capture.Form")
    assert entry.actor_label == "mia" and entry.changes["title"] == ["Ask for a demo",
                                                                     "Book a demo"]


def test_creating_and_deleting_configuration_is_recorded(admin_user):
    rule = ScoreRule.objects.create(name="Visit", event_type="page_view", points=1)
    rule.delete()
    created, deleted = AuditEntry.objects.filter(object_type="scoring.ScoreRule").order_by("pk")
    assert (created.action, created.changes["points"]) == ("created", 1)
    assert (deleted.action, deleted.object_repr) == ("deleted", "Visit (+1)")
    assert created.actor_label == "Leadflow"  # no request: Leadflow itself


def test_a_role_change_is_a_config_change_and_a_security_event(make_user):
    rita = make_user("rita", Role.SALES_REP)
    rita.role = Role.ADMIN
    rita.set_password("never-recorded-secret")
    rita.save()
    changed = AuditEntry.objects.get(action="changed", object_type="accounts.User")
    assert changed.changes == {"role": ["sales_rep", "admin"]}
    assert AuditEntry.objects.filter(kind="security", action="role_changed").exists()
    assert "never-recorded" not in str(list(AuditEntry.objects.values_list("changes")))


def test_tokens_created_and_revoked_are_security_events(admin_user, capsys):
    assert cli.main(["token", "create", "--user", admin_user.username, "--scope",
                     "read"]) == 0
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    token.revoked = True
    token.save()
    events = list(AuditEntry.objects.filter(kind="security").order_by("pk")
                  .values_list("action", flat=True))
    assert events == ["token_created", "token_revoked"]
    created = AuditEntry.objects.get(action="token_created")
    assert created.changes["scope"] == "read" and raw not in str(created.changes)
    assert token.digest not in str(created.changes)


def test_a_successful_sign_in_is_a_security_event(make_user):
    ana = make_user("ana")
    ana.set_password("a-long-unusual-passphrase")
    ana.save()
    r = Client().post("/login/", {"username": "ana", "password": "a-long-unusual-passphrase"})
    assert r.status_code == 302
    entry = AuditEntry.objects.get(action="login")
    assert (entry.kind, entry.actor) == ("security", ana)


def test_administrators_read_the_log_page(admin_user, django_assert_max_num_queries):
    for n in range(30):
        ScoreRule.objects.create(name=f"Rule {n}", event_type="page_view", points=n)
    client = _browser(admin_user)
    with django_assert_max_num_queries(8):
        r = client.get("/audit/?kind=config")
    assert r.status_code == 200 and "Rule 29" in r.content.decode()


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP])
def test_other_roles_may_not_read_the_log(make_user, role):
    user = make_user("someone", role)
    assert _browser(user).get("/audit/").status_code == 403
    r = ApiClient(create_token(user)[1]).get("/audit")
    assert r.status_code == 403 and "administrators" in r.json()["message"]


def test_the_api_lists_entries_for_administrators(admin_user, api):
    ScoreRule.objects.create(name="Visit", event_type="page_view", points=1)
    r = api.get("/audit", kind="config")
    assert r.status_code == 200
    first = r.json()["items"][0]
    assert (first["action"], first["object_type"], first["changes"]["points"]) == (
        "created", "scoring.ScoreRule", 1)
    assert api.get("/audit", kind="nonsense").status_code == 422
