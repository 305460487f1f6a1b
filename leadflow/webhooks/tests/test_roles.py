"""Only administrators manage webhook subscriptions, through the API and the pages."""

from __future__ import annotations

import pytest

from leadflow.accounts.models import Role
from leadflow.webhooks.models import Delivery, Subscription

OTHERS = [Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP]
NEW = {"name": "CRM", "url": "https://crm.example.com/hook", "events": ["lead.created"]}


def _patch(api, path, data):
    return api.client.patch("/api/v1" + path, data, content_type="application/json",
                            **api.auth)


def _delete(api, path):
    return api.client.delete("/api/v1" + path, **api.auth)


def test_an_admin_manages_subscriptions_through_the_api(db, api):
    r = api.post("/webhooks", NEW)
    assert r.status_code == 201, r.content
    sub = r.json()
    assert "secret" not in sub
    secret = api.get(f"/webhooks/{sub['id']}/secret").json()["secret"]
    assert secret.startswith("whsec_")
    assert api.get("/webhooks").json()["items"][0]["id"] == sub["id"]
    r = _patch(api, f"/webhooks/{sub['id']}", {"events": ["lead.won", "lead.lost"]})
    assert r.status_code == 200 and r.json()["events"] == ["lead.lost", "lead.won"]
    rotated = api.post(f"/webhooks/{sub['id']}/rotate").json()
    assert rotated["previous_secret"] == secret and rotated["secret"] != secret
    r = api.post(f"/webhooks/{sub['id']}/test")
    assert r.status_code == 202 and r.json()["kind"] == "webhook.test"
    [d] = api.get(f"/webhooks/{sub['id']}/deliveries").json()["items"]
    r = api.post(f"/webhooks/{sub['id']}/deliveries/{d['id']}/redeliver")
    assert r.status_code == 202
    assert api.get("/webhooks/kinds").status_code == 200
    assert _delete(api, f"/webhooks/{sub['id']}").status_code == 204
    assert not Subscription.objects.exists() and not Delivery.objects.exists()


def test_bad_input_is_a_422_naming_the_field(db, api):
    r = api.post("/webhooks", {**NEW, "events": ["lead.exploded"]})
    assert r.status_code == 422 and r.json()["field"] == "events"
    r = api.post("/webhooks", {**NEW, "url": "https://"})
    assert r.status_code == 422 and r.json()["field"] == "url"
    r = api.post("/webhooks", {**NEW, "conditions": [{"field": "x", "op": "nope", "value": 1}]})
    assert r.status_code == 422 and r.json()["field"].startswith("conditions")
    assert api.get("/webhooks/999").status_code == 404


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_are_refused_by_the_api(db, role, make_user, api_for, admin_user):
    from leadflow.webhooks.services import create_subscription

    sub = create_subscription(NEW, actor=admin_user)
    api = api_for(make_user("someone", role))
    assert api.get("/webhooks").status_code == 403
    assert api.post("/webhooks", NEW).status_code == 403
    for path in (f"/webhooks/{sub.pk}", f"/webhooks/{sub.pk}/secret",
                 f"/webhooks/{sub.pk}/deliveries"):
        assert api.get(path).status_code == 403, path
    for path in (f"/webhooks/{sub.pk}/test", f"/webhooks/{sub.pk}/rotate"):
        assert api.post(path).status_code == 403, path
    assert _patch(api, f"/webhooks/{sub.pk}", {"allow_private": True}).status_code == 403
    assert _delete(api, f"/webhooks/{sub.pk}").status_code == 403
    sub.refresh_from_db()
    assert not sub.allow_private and not Delivery.objects.exists()


def test_an_admin_manages_subscriptions_through_the_pages(db, client, admin_user):
    client.force_login(admin_user)
    assert b"/webhooks/" in client.get("/").content  # in the navigation
    r = client.post("/webhooks/", {"name": "CRM", "url": "https://crm.example.com/h",
                                   "events": ["lead.created", "lead.won"], "active": "on"})
    assert r.status_code == 302, r.content
    sub = Subscription.objects.get()
    assert sub.events == ["lead.created", "lead.won"]
    page = client.get(f"/webhooks/{sub.pk}/?secret=1")
    assert page.status_code == 200 and sub.secret.encode() in page.content
    assert client.post(f"/webhooks/{sub.pk}/test").status_code == 302
    d = Delivery.objects.get()
    page = client.get(f"/webhooks/{sub.pk}/")
    assert b"webhook.test" in page.content and sub.secret.encode() not in page.content
    assert client.post(f"/webhooks/{sub.pk}/deliveries/{d.pk}/redeliver").status_code == 302
    old = sub.secret
    assert client.post(f"/webhooks/{sub.pk}/rotate").status_code == 302
    sub.refresh_from_db()
    assert sub.previous_secret == old
    r = client.post(f"/webhooks/{sub.pk}/", {"name": "CRM", "url": "ftp://x",
                                             "events": ["lead.won"]})
    assert r.status_code == 422
    assert client.post(f"/webhooks/{sub.pk}/delete").status_code == 302
    assert not Subscription.objects.exists()
    assert client.post("/webhooks/", {"name": "x", "url": "https://x.example.com",
                                      "events": []}).status_code == 422


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_are_refused_by_the_pages(db, role, client, make_user, admin_user):
    from leadflow.webhooks.services import create_subscription

    sub = create_subscription(NEW, actor=admin_user)
    client.force_login(make_user("someone", role))
    assert b"/webhooks/" not in client.get("/").content
    assert client.get("/webhooks/").status_code == 403
    assert client.get(f"/webhooks/{sub.pk}/").status_code == 403
    assert client.post("/webhooks/", {**NEW, "active": "on"}).status_code == 403
    for what in ("test", "rotate", "delete"):
        assert client.post(f"/webhooks/{sub.pk}/{what}").status_code == 403
    assert Subscription.objects.get().secret == sub.secret
