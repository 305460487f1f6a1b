"""Deliveries carry Standard Webhooks signatures, checked here by a verifier written from
the spec (../shared/STANDARDS.md), not by the production code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

from leadflow.core import clock
from leadflow.webhooks import signing
from leadflow.webhooks.delivery import run_due
from leadflow.webhooks.services import rotate_secret


def reference_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: the timestamp within 5 minutes, any signature matching."""
    ts = headers["webhook-timestamp"]
    if abs(int(clock.now().timestamp()) - int(ts)) > 300:
        return False
    expected = reference_signature(secret, headers["webhook-id"], ts, body)
    return any(hmac.compare_digest(expected, given)
               for given in headers["webhook-signature"].split(" "))


def test_the_spec_test_vector_is_signed_as_published():
    # The test vector of the Standard Webhooks reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id, ts, body = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert reference_signature(secret, msg_id, str(ts), body) == expected
    assert signing.sign(secret, msg_id, ts, body) == expected


def test_a_new_secret_is_whsec_and_32_random_bytes_at_least_24():
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert secret != signing.new_secret()


def test_a_delivery_reaches_the_receiver_signed(db, receiver, subscribe, make_lead):
    sub = subscribe(receiver.url)
    lead = make_lead("ada@example.com", first_name="Ada")
    assert run_due() == 1
    [got] = receiver.requests
    assert verifies(sub.secret, got.headers, got.body)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"].startswith("msg_")
    payload = json.loads(got.body)
    assert payload["type"] == "lead.created"
    assert payload["data"]["lead"]["id"] == lead.pk
    assert payload["data"]["lead"]["email"] == "ada@example.com"
    # A tampered body or a wrong secret fails.
    assert not verifies(sub.secret, got.headers, got.body + b" ")
    assert not verifies(signing.new_secret(), got.headers, got.body)


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
        db, receiver, subscribe, make_lead, admin_user):
    sub = subscribe(receiver.url)
    old = sub.secret
    rotate_secret(sub, actor=admin_user, overlap=timedelta(hours=1))
    make_lead("ada@example.com")
    run_due()
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verifies(old, got.headers, got.body)
    assert verifies(sub.secret, got.headers, got.body)
    clock.advance(timedelta(hours=2))
    make_lead("bob@example.com")
    run_due()
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    assert verifies(sub.secret, got.headers, got.body)
    assert not verifies(old, got.headers, got.body)
