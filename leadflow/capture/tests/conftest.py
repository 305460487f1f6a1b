"""Helpers of the capture tests: a fill token old enough to pass the minimum fill time,
a fresh cache (the rate limit's counters) for each test, and a signed-in marketer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture import tokens
from leadflow.core import clock


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def marketer(make_user) -> Client:
    """A browser session of a marketing user, who may build forms."""
    client = Client()
    client.force_login(make_user("mia", Role.MARKETING))
    return client


def aged_token(form_id: int, seconds: int = 30) -> str:
    """A fill token as if the form had been shown `seconds` ago."""
    with clock.travel(clock.now() - timedelta(seconds=seconds)):
        return tokens.fill_token(form_id)
