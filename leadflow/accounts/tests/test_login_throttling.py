"""Login throttling (django-axes): too many failed sign-ins for one account, or from one
address, lock it out for the cool-off time with a clear message (JSON for JSON clients),
even with the right password; each failure and the lock-out are security-log entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from leadflow.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase"


@pytest.fixture
def ana(make_user):
    user = make_user("ana")
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(password, username="ana", ip="203.0.113.7", **headers):
    return Client().post("/login/", {"username": username, "password": password},
                         REMOTE_ADDR=ip, **headers)


def _fail(times, **kwargs):
    # The try that reaches the limit is itself answered with the lock-out.
    return [_sign_in("wrong", **kwargs).status_code for _ in range(times)]


def test_the_right_password_works_after_a_few_failures(ana, settings):
    assert set(_fail(settings.AXES_FAILURE_LIMIT - 1)) == {200}
    r = _sign_in(PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/"


def test_too_many_failures_lock_the_account_even_with_the_right_password(ana, settings):
    _fail(settings.AXES_FAILURE_LIMIT)
    r = _sign_in(PASSWORD, ip="198.51.100.1")  # another address: the account is locked
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.content.decode()
    assert "_auth_user_id" not in r.client.session


def test_too_many_failures_from_one_address_lock_that_address(ana, make_user, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in("wrong", username=f"guess{n}")
    assert _sign_in(PASSWORD).status_code == 429
    assert _sign_in(PASSWORD, ip="198.51.100.1").status_code == 302


def test_thirty_wrong_passwords_then_the_right_one_is_refused(ana):
    for _ in range(30):
        _sign_in("wrong")
    assert _sign_in(PASSWORD).status_code == 429


def test_a_json_client_gets_a_json_429(ana, settings):
    _fail(settings.AXES_FAILURE_LIMIT)
    r = _sign_in(PASSWORD, HTTP_ACCEPT="application/json")
    assert r.status_code == 429 and "Too many failed sign-ins" in r.json()["message"]


def test_the_lock_ends_after_the_cool_off(ana, settings):
    _fail(settings.AXES_FAILURE_LIMIT)
    assert _sign_in(PASSWORD).status_code == 429
    # axes reads the wall clock: age the recorded attempts instead of waiting.
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert _sign_in(PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_the_lock_is_per_visitor(ana, make_user, settings):
    import ipaddress

    settings.LEADFLOW_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in("wrong", username=f"guess{n}", ip="10.0.0.2",
                 HTTP_X_FORWARDED_FOR="192.0.2.66")
    assert _sign_in(PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.66").status_code \
        == 429
    assert _sign_in(PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code \
        == 302


def test_failures_and_the_lock_out_are_in_the_security_log(ana, settings):
    _fail(settings.AXES_FAILURE_LIMIT)
    _sign_in(PASSWORD)
    actions = list(AuditEntry.objects.filter(kind="security").order_by("pk")
                   .values_list("action", flat=True))
    # the refused try with the right password while locked counts as failed too
    assert actions.count("login_failed") == settings.AXES_FAILURE_LIMIT + 1
    assert "locked_out" in actions and "login" not in actions
    failed = AuditEntry.objects.filter(action="login_failed").first()
    assert (failed.actor_label, failed.ip) == ("ana", "203.0.113.7")
    assert "wrong" not in str(failed.changes)
