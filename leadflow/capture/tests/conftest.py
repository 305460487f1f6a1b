"""Helpers of the capture tests: a fill token old enough to pass the minimum fill time,
and a fresh cache (the rate limit's counters) for each test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from leadflow.capture import tokens
from leadflow.core import clock


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def aged_token(form_id: int, seconds: int = 30) -> str:
    """A fill token as if the form had been shown `seconds` ago."""
    with clock.travel(clock.now() - timedelta(seconds=seconds)):
        return tokens.fill_token(form_id)
