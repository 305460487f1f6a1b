"""The one clock: real time by default; tests move it with travel() and advance()."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from leadflow.core import clock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_now_is_the_system_time_by_default():
    before = timezone.now()
    now = clock.now()
    after = timezone.now()
    assert before <= now <= after
    assert now.tzinfo is not None


def test_travel_freezes_time_at_the_given_moment():
    with clock.travel(T0):
        assert clock.now() == T0
        assert clock.now() == T0


def test_travel_without_a_moment_freezes_the_current_time():
    before = timezone.now()
    with clock.travel():
        frozen = clock.now()
        assert clock.now() == frozen
    assert before <= frozen


def test_travel_restores_the_real_clock_after_the_block():
    with clock.travel(T0):
        pass
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_travel_restores_the_clock_when_the_block_raises():
    with pytest.raises(RuntimeError), clock.travel(T0):
        raise RuntimeError("boom")
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_travel_unfrozen_starts_at_the_moment_and_keeps_running():
    with clock.travel(T0, freeze=False):
        first = clock.now()
        second = clock.now()
    assert T0 <= first <= second
    assert first - T0 < timedelta(hours=1)  # it started at T0, not at the real time


def test_advance_moves_a_frozen_clock_exactly():
    with clock.travel(T0):
        clock.advance(timedelta(days=2))
        assert clock.now() == T0 + timedelta(days=2)
        clock.advance(timedelta(hours=-1))
        assert clock.now() == T0 + timedelta(days=2, hours=-1)


def test_advance_moves_the_running_clock_forward():
    before = timezone.now()
    clock.advance(timedelta(days=3))
    now = clock.now()
    assert before + timedelta(days=3) <= now <= timezone.now() + timedelta(days=3)


def test_nested_travel_restores_the_outer_time():
    with clock.travel(T0):
        with clock.travel(T0 + timedelta(days=30)):
            assert clock.now() == T0 + timedelta(days=30)
        assert clock.now() == T0


def test_advance_inside_travel_is_undone_when_the_block_ends():
    clock.advance(timedelta(days=10))
    offset_now = clock.now()
    with clock.travel(T0):
        clock.advance(timedelta(days=1))
    assert clock.now() >= offset_now  # the outer offset of 10 days is back


def test_reset_returns_to_the_system_time():
    clock.advance(timedelta(days=365))
    clock.reset()
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()
