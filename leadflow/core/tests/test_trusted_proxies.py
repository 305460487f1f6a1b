"""LEADFLOW_TRUSTED_PROXIES: behind the documented reverse proxy each visitor has their own
rate-limit budget and their own address in the consent proof; a client that is not a
trusted proxy cannot choose its address with X-Forwarded-For."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.cache import cache
from django.test import Client

from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.config import ConfigError, Env
from leadflow.leads.models import Consent

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.LEADFLOW_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    settings.LEADFLOW_FORM_RATE_LIMIT = 2


@pytest.fixture
def form(db):
    cache.clear()  # the rate-limit counters live in the cache, not in the test database
    return Form.objects.create(name="News", slug="news", title="News", consent_text="Yes")


def _post(form, forwarded: str | None, peer: str = PROXY, email="ana@example.com"):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    data = {"email": email, "consent": "on", "lf_token": aged_token(form.pk)}
    return Client().post(f"/f/{form.slug}/", data, **headers)


def test_visitors_behind_a_trusted_proxy_each_have_their_own_rate_limit(behind_proxy, form):
    for _ in range(2):
        assert _post(form, "198.51.100.1").status_code == 200
    assert _post(form, "198.51.100.1").status_code == 429
    assert _post(form, "198.51.100.2").status_code == 200


def test_the_client_part_of_x_forwarded_for_is_not_believed(behind_proxy, form):
    # The proxy appends the address it saw; what the client sent before it is a lie.
    for fake in ("1.1.1.1", "2.2.2.2"):
        assert _post(form, f"{fake}, 198.51.100.1").status_code == 200
    assert _post(form, "3.3.3.3, 198.51.100.1").status_code == 429


def test_an_untrusted_peer_cannot_choose_its_address(behind_proxy, form):
    for fake in ("1.1.1.1", "2.2.2.2"):
        assert _post(form, fake, peer="203.0.113.9").status_code == 200
    assert _post(form, "3.3.3.3", peer="203.0.113.9").status_code == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings, form):
    settings.LEADFLOW_FORM_RATE_LIMIT = 1
    assert _post(form, "1.1.1.1").status_code == 200
    assert _post(form, "2.2.2.2").status_code == 429


def test_the_consent_proof_stores_the_visitors_address(behind_proxy, form):
    assert _post(form, "198.51.100.7, 10.0.0.9").status_code == 200
    assert Consent.objects.get().ip == "198.51.100.7"


def test_a_bad_trusted_proxy_value_names_the_variable():
    with pytest.raises(ConfigError, match="LEADFLOW_TRUSTED_PROXIES .* 'proxy.local' is"):
        Env({"LEADFLOW_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}).networks(
            "LEADFLOW_TRUSTED_PROXIES")


def test_trusted_proxies_accept_addresses_and_networks():
    found = Env({"LEADFLOW_TRUSTED_PROXIES": "10.0.0.0/8, ::1,192.168.1.5"}).networks(
        "LEADFLOW_TRUSTED_PROXIES")
    assert [str(n) for n in found] == ["10.0.0.0/8", "::1/128", "192.168.1.5/32"]
