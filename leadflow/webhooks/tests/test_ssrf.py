"""No delivery to private, loopback or reserved addresses unless an admin allows it; the
address is checked after resolving the name on every delivery; redirects are not
followed."""

from __future__ import annotations

import pytest

from leadflow.core.errors import InvalidInput
from leadflow.webhooks import transport
from leadflow.webhooks.delivery import run_due
from leadflow.webhooks.models import Delivery
from leadflow.webhooks.services import create_subscription, update_subscription


@pytest.fixture
def plain_http(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True


def test_loopback_is_refused_by_default_and_never_retried(
        db, plain_http, receiver, subscribe, make_lead):
    subscribe(receiver.url, allow_private=False)
    make_lead("ada@example.com")
    run_due()
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.FAILED and d.attempts == 1
    assert "private or reserved" in d.last_error
    assert receiver.requests == []


def test_loopback_is_delivered_once_an_admin_allows_it(
        db, plain_http, receiver, subscribe, make_lead, admin_user):
    sub = subscribe(receiver.url, allow_private=False)
    update_subscription(sub, {"allow_private": True}, actor=admin_user)
    make_lead("ada@example.com")
    run_due()
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert len(receiver.requests) == 1


def test_a_name_resolving_to_loopback_is_refused_and_sent_to_the_checked_address(
        db, plain_http, receiver, subscribe, make_lead):
    """`localhost` is checked after resolution (not by its spelling); allowed, the Host
    header still names it."""
    url = receiver.url.replace("127.0.0.1", "localhost")
    with pytest.raises(transport.Refused):
        transport.post(url, b"{}", {}, allow_private=False)
    answer = transport.post(url, b"{}", {}, allow_private=True)
    assert answer.status == 200
    assert receiver.requests[-1].headers["host"].startswith("localhost:")


@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.3.4", "192.168.1.1", "127.0.0.1",
                                     "169.254.169.254", "0.0.0.0",  # noqa: S104
                                     "224.0.0.1", "240.0.0.1",
                                     "100.64.0.1", "::1", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "::"])
def test_private_and_reserved_addresses_are_refused(address):
    with pytest.raises(transport.Refused):
        transport.resolve(address, 443, allow_private=False)


def test_a_public_address_passes_the_check():
    assert transport.resolve("93.184.215.14", 443, allow_private=False) == "93.184.215.14"


def test_redirects_are_not_followed(db, plain_http, receiver, subscribe, make_lead):
    subscribe(receiver.url)
    receiver.statuses = [302]
    receiver.redirect_to = receiver.url + "/elsewhere"
    make_lead("ada@example.com")
    run_due()
    d = Delivery.objects.get()
    assert d.status == Delivery.Status.PENDING and d.last_error == "HTTP 302"
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_plain_http_is_refused_unless_allowed(db, admin_user, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(InvalidInput) as e:
        create_subscription({"name": "x", "url": "http://example.com/hook",
                             "events": ["lead.created"]}, actor=admin_user)
    assert e.value.field == "url"
    for bad in ("ftp://example.com/", "https://", "javascript:alert(1)"):
        with pytest.raises(InvalidInput):
            create_subscription({"name": "x", "url": bad, "events": ["lead.created"]},
                                actor=admin_user)
    assert create_subscription({"name": "x", "url": "https://example.com/hook",
                                "events": ["lead.created"]}, actor=admin_user).pk
