"""Campaign waits: delays, dates, weekdays and send windows in the lead's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.campaigns.waits import (
    DAY_CODES,
    LeadTZ,
    describe,
    due_times,
    lead_rows,
    validate,
)
from leadflow.core import clock
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
OFFICE = {"days": WEEKDAYS, "start": "09:00", "end": "18:00"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due(spec, now, zone="UTC") -> datetime:
    return due_times(spec, [LeadTZ(1, custom={"timezone": zone})], now)[1]


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


# --- the spec --------------------------------------------------------------------------

def test_a_delay_in_days_hours_and_minutes_is_kept_in_seconds():
    assert validate({"kind": "delay", "days": 2, "hours": 3, "minutes": 1}) == {
        "kind": "delay", "seconds": 2 * 86400 + 3 * 3600 + 60}


def test_a_window_is_kept_with_its_days_in_week_order_and_times_as_hh_mm():
    spec = validate({"kind": "weekday", "days": ["FRI", "mon", "fri"], "time": "9:30",
                     "window": {"days": ["wed", "tue"], "start": "8:00"}})
    assert spec == {"kind": "weekday", "days": ["mon", "fri"], "time": "09:30",
                    "window": {"days": ["tue", "wed"], "start": "08:00", "end": "24:00"}}


def test_a_window_open_all_the_time_is_no_window():
    assert validate({"kind": "delay", "hours": 1, "window": {}}) == {
        "kind": "delay", "seconds": 3600}


def test_a_date_keeps_its_offset():
    assert validate({"kind": "until", "at": "2026-03-14T09:00:00+01:00"})["at"] == (
        "2026-03-14T09:00:00+01:00")


@pytest.mark.parametrize(("spec", "field"), [
    ("2 days", "kind"),
    ({"kind": "sleep"}, "kind"),
    ({"kind": "delay"}, "seconds"),
    ({"kind": "delay", "seconds": 0}, "seconds"),
    ({"kind": "delay", "hours": -1}, "hours"),
    ({"kind": "delay", "days": 1.5}, "days"),
    ({"kind": "delay", "days": True}, "days"),
    ({"kind": "delay", "days": 100_000}, "days"),
    ({"kind": "delay", "days": 1, "at": "2026-01-01T00:00:00Z"}, "at"),
    ({"kind": "until", "at": "2026-03-14T09:00:00"}, "at"),
    ({"kind": "until", "at": "next tuesday"}, "at"),
    ({"kind": "weekday", "days": [], "time": "09:00"}, "days"),
    ({"kind": "weekday", "days": ["monday"], "time": "09:00"}, "days"),
    ({"kind": "weekday", "days": ["mon"], "time": "24:00"}, "time"),
    ({"kind": "weekday", "days": ["mon"], "time": "9h"}, "time"),
    ({"kind": "delay", "days": 1, "window": "office hours"}, "window"),
    ({"kind": "delay", "days": 1, "window": {"start": "09:00", "end": "09:00"}},
     "window.end"),
    ({"kind": "delay", "days": 1, "window": {"start": "25:00"}}, "window.start"),
    ({"kind": "delay", "days": 1, "window": {"days": ["xyz"]}}, "window.days"),
    ({"kind": "delay", "days": 1, "window": {"from": "09:00"}}, "window.from"),
])
def test_a_wrong_spec_is_refused_naming_the_field(spec, field):
    with pytest.raises(InvalidInput) as refused:
        validate(spec)
    assert refused.value.field == field


def test_a_zero_delay_is_allowed_with_a_window():
    assert validate({"kind": "delay", "seconds": 0, "window": OFFICE})["seconds"] == 0


# --- kinds -----------------------------------------------------------------------------

def test_a_delay_ends_after_its_seconds_for_every_lead():
    now = utc(2026, 5, 4, 10)
    leads = [LeadTZ(1, "US", "Chicago"), LeadTZ(2, "FR", "Paris")]
    assert due_times({"kind": "delay", "days": 2}, leads, now) == {
        1: now + timedelta(days=2), 2: now + timedelta(days=2)}


def test_until_a_date_ends_then_and_a_past_date_ends_now():
    at = "2026-03-14T09:00:00+01:00"
    assert due({"kind": "until", "at": at}, utc(2026, 3, 1)) == utc(2026, 3, 14, 8)
    assert due({"kind": "until", "at": at}, utc(2026, 4, 1)) == utc(2026, 4, 1)


def test_a_weekday_wait_ends_at_that_local_time_in_the_leads_zone():
    spec = {"kind": "weekday", "days": ["mon"], "time": "09:30"}
    now = utc(2026, 5, 6, 12)  # a Wednesday
    assert due(spec, now, "Europe/Paris") == utc(2026, 5, 11, 7, 30)
    assert due(spec, now, "America/New_York") == utc(2026, 5, 11, 13, 30)


def test_a_weekday_wait_reached_exactly_now_waits_for_the_next_one():
    spec = {"kind": "weekday", "days": ["mon", "thu"], "time": "09:00"}
    assert due(spec, utc(2026, 5, 4, 9)) == utc(2026, 5, 7, 9)


# --- windows ---------------------------------------------------------------------------

def test_a_wait_that_ends_inside_the_window_stays():
    now = utc(2026, 5, 4, 10)  # Monday 12:00 in Paris
    spec = {"kind": "delay", "hours": 2, "window": OFFICE}
    assert due(spec, now, "Europe/Paris") == now + timedelta(hours=2)


def test_a_wait_that_ends_outside_the_window_moves_to_its_next_opening():
    friday_evening = utc(2026, 5, 8, 15, 30)  # 17:30 in Paris
    spec = {"kind": "delay", "hours": 1, "window": OFFICE}
    assert local(due(spec, friday_evening, "Europe/Paris"), "Europe/Paris") == datetime(
        2026, 5, 11, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


def test_a_window_past_midnight_runs_into_the_next_day():
    nights = {"days": ["fri"], "start": "22:00", "end": "06:00"}
    spec = {"kind": "delay", "hours": 1, "window": nights}
    assert due(spec, utc(2026, 5, 9, 2)) == utc(2026, 5, 9, 3)  # Saturday 03:00 stays
    assert due(spec, utc(2026, 5, 9, 6)) == utc(2026, 5, 15, 22)  # next Friday night


def test_the_window_is_read_in_each_leads_zone():
    now = utc(2026, 5, 4, 6)  # Monday: 08:00 in Paris, 02:00 in New York, 15:00 in Tokyo
    leads = [LeadTZ(1, "FR"), LeadTZ(2, "US", "New York"), LeadTZ(3, "JP"),
             LeadTZ(4, "US", "", {"timezone": "Asia/Tokyo"})]
    due_at = due_times({"kind": "delay", "minutes": 1, "window": OFFICE}, leads, now)
    assert due_at == {1: utc(2026, 5, 4, 7), 2: utc(2026, 5, 4, 13),
                      3: now + timedelta(minutes=1), 4: now + timedelta(minutes=1)}


def test_a_lead_with_nothing_to_place_it_uses_the_installations_zone(settings):
    settings.TIME_ZONE = "America/Chicago"
    spec = {"kind": "weekday", "days": ["mon"], "time": "09:00"}
    assert due_times(spec, [LeadTZ(1)], utc(2026, 5, 1)) == {1: utc(2026, 5, 4, 14)}


# --- clock changes ---------------------------------------------------------------------

def test_nine_oclock_on_the_day_clocks_go_forward_and_back():
    sunday_nine = {"kind": "weekday", "days": ["sun"], "time": "09:00"}
    new_york = "America/New_York"
    assert due(sunday_nine, utc(2024, 3, 2), new_york) == utc(2024, 3, 3, 14)  # EST
    assert due(sunday_nine, utc(2024, 3, 9), new_york) == utc(2024, 3, 10, 13)  # EDT
    assert due(sunday_nine, utc(2024, 3, 30), "Europe/Paris") == utc(2024, 3, 31, 7)
    assert due(sunday_nine, utc(2024, 10, 26), "Europe/Paris") == utc(2024, 10, 27, 8)


def test_a_time_the_clocks_skip_means_the_moment_they_jump():
    spec = {"kind": "weekday", "days": ["sun"], "time": "02:30"}
    assert due(spec, utc(2024, 3, 9), "America/New_York") == utc(2024, 3, 10, 7)


def test_a_time_the_clocks_repeat_means_its_first_occurrence():
    spec = {"kind": "weekday", "days": ["sun"], "time": "01:30"}
    assert due(spec, utc(2024, 11, 2), "America/New_York") == utc(2024, 11, 3, 5, 30)


def test_a_window_opening_at_a_skipped_time_opens_when_the_clocks_jump():
    window = {"days": ["sun"], "start": "02:30", "end": "04:00"}
    spec = {"kind": "delay", "minutes": 1, "window": window}
    assert due(spec, utc(2024, 3, 10, 5), "America/New_York") == utc(2024, 3, 10, 7)


def test_a_window_the_clocks_skip_entirely_opens_the_next_week():
    window = {"days": ["sun"], "start": "02:10", "end": "02:50"}
    spec = {"kind": "delay", "minutes": 1, "window": window}
    assert due(spec, utc(2024, 3, 10, 5), "America/New_York") == utc(2024, 3, 17, 6, 10)


def test_a_delay_in_days_is_24_hours_each_across_a_clock_change():
    before = utc(2024, 3, 9, 14)  # Saturday 09:00 EST
    assert due({"kind": "delay", "days": 1}, before, "America/New_York") == utc(2024, 3, 10, 14)


# --- properties ------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Paris", "America/New_York", "America/St_Johns", "Asia/Kolkata",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Europe/Dublin",
         "Africa/Casablanca", "Pacific/Apia", "Asia/Tokyo"]
# Moments near clock changes, where mistakes hide (Apia skipped 2011-12-30 entirely).
CHANGES = [utc(2024, 3, 10, 7), utc(2024, 11, 3, 6), utc(2024, 3, 31, 1),
           utc(2024, 10, 27, 1), utc(2024, 4, 6, 15), utc(2024, 10, 5, 15),
           utc(2024, 4, 6, 14), utc(2024, 9, 7, 14), utc(2011, 12, 30, 10),
           utc(2024, 3, 10, 3, 30), utc(2024, 11, 3, 3, 30), utc(2024, 4, 7, 2)]

moments = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31),
                 timezones=st.just(UTC)),
    st.builds(lambda at, minutes: at + timedelta(minutes=minutes),
              st.sampled_from(CHANGES), st.integers(-3 * 1440, 3 * 1440)))
quarter_hours = st.integers(0, 96).map(lambda n: f"{n * 15 // 60:02d}:{n * 15 % 60:02d}")
windows = st.fixed_dictionaries({
    "days": st.lists(st.sampled_from(DAY_CODES), min_size=1, unique=True),
    "start": quarter_hours.filter(lambda t: t != "24:00"),
    "end": quarter_hours,
}).filter(lambda w: w["start"] != w["end"])
delays = st.integers(0, 30 * 86400)


def in_window(moment: datetime, zone: str, window: dict) -> bool:
    """By the wall clock: on a listed day between start and end (past midnight: the end
    belongs to the day after a listed day)."""
    wall = local(moment, zone)
    start = time.fromisoformat(window["start"])
    end = time.max if window["end"] == "24:00" else time.fromisoformat(window["end"])
    today = DAY_CODES[wall.weekday()] in window["days"]
    yesterday = DAY_CODES[(wall.weekday() - 1) % 7] in window["days"]
    clock_time = wall.time()
    if start < end:
        return today and start <= clock_time < end
    return (today and clock_time >= start) or (yesterday and clock_time < end)


@settings(max_examples=300, deadline=None)
@given(now=moments, seconds=delays, zone=st.sampled_from(ZONES),
       window=st.none() | windows)
def test_a_delay_is_never_shortened_and_ends_inside_its_window(now, seconds, zone, window):
    spec: dict = {"kind": "delay", "seconds": seconds}
    if window:
        spec["window"] = window
    if not seconds and not window:
        return
    result = due(spec, now, zone)
    assert result >= now + timedelta(seconds=seconds)
    if window:
        assert in_window(result, zone, window)
        if in_window(now + timedelta(seconds=seconds), zone, window):
            assert result == now + timedelta(seconds=seconds)
    else:
        assert result == now + timedelta(seconds=seconds)


@settings(max_examples=300, deadline=None)
@given(now=moments, days=st.lists(st.sampled_from(DAY_CODES), min_size=1, unique=True),
       at=quarter_hours.filter(lambda t: t != "24:00"), zone=st.sampled_from(ZONES),
       window=st.none() | windows)
def test_a_weekday_wait_ends_later_on_a_chosen_day_and_time(now, days, at, zone, window):
    spec: dict = {"kind": "weekday", "days": days, "time": at}
    if window:
        spec["window"] = window
    result = due(spec, now, zone)
    assert now < result <= now + timedelta(days=15)
    if window:
        assert in_window(result, zone, window)
        return
    wall = local(result, zone)
    at_the_time = DAY_CODES[wall.weekday()] in days and wall.strftime("%H:%M") == at
    clocks_jumped = local(result - timedelta(seconds=1), zone).utcoffset() != wall.utcoffset()
    assert at_the_time or clocks_jumped


@settings(max_examples=200, deadline=None)
@given(now=moments, at=moments, zone=st.sampled_from(ZONES), window=st.none() | windows)
def test_until_never_ends_before_its_date_nor_before_now(now, at, zone, window):
    spec: dict = {"kind": "until", "at": at.isoformat()}
    if window:
        spec["window"] = window
    result = due(spec, now, zone)
    assert result >= max(now, at)
    if window:
        assert in_window(result, zone, window)


# --- many leads ------------------------------------------------------------------------

PLACES = [("US", "San Francisco", {}), ("US", "Chicago", {}), ("FR", "Lyon", {}),
          ("", "", {"timezone": "Asia/Tokyo"}), ("BR", "", {"other": "x"}), ("", "", {})]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 1000])
def test_due_times_for_a_batch_read_in_one_query_then_none(size, django_assert_num_queries):
    now = clock.now()
    places = [PLACES[i % len(PLACES)] for i in range(size)]
    Lead.objects.bulk_create([
        Lead(email=f"w{i}@example.com", country=country, city=city, custom=custom,
             created_at=now, updated_at=now)
        for i, (country, city, custom) in enumerate(places)])
    with django_assert_num_queries(1):
        rows = lead_rows(Lead.objects.all())
    spec = {"kind": "weekday", "days": ["mon"], "time": "09:00", "window": OFFICE}
    start = utc(2026, 5, 6, 12)
    with django_assert_num_queries(0):
        due_at = due_times(spec, rows, start)
    assert len(due_at) == size
    by_email = {lead.email: due_at[lead.id] for lead in Lead.objects.all()}
    assert by_email["w0@example.com"] == utc(2026, 5, 11, 16)  # San Francisco, PDT
    assert by_email["w1@example.com"] == utc(2026, 5, 11, 14)  # Chicago, CDT
    assert by_email["w3@example.com"] == utc(2026, 5, 11, 0)  # Tokyo, its own field
    assert by_email["w4@example.com"] == utc(2026, 5, 11, 12)  # Sao Paulo, the default


def test_rows_as_plain_tuples_work_too():
    spec = {"kind": "weekday", "days": ["mon"], "time": "09:00"}
    rows = [(7, "FR", "Paris", {}), (8, "JP", "", None)]
    assert due_times(spec, rows, utc(2026, 5, 6)) == {
        7: utc(2026, 5, 11, 7), 8: utc(2026, 5, 11, 0)}


# --- describing ------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "english", "french"), [
    ({"kind": "delay", "days": 2}, "Wait 2 days", "Attendre 2 jours"),
    ({"kind": "delay", "days": 1, "hours": 6}, "Wait 1 day, 6 hours",
     "Attendre 1 jour, 6 heures"),
    ({"kind": "weekday", "days": ["mon"], "time": "09:00"},
     "Until Monday 09:00 (lead's time zone)",
     "Jusqu'à lundi 09:00 (fuseau horaire du lead)"),
    ({"kind": "weekday", "days": ["mon", "wed", "fri"], "time": "09:30"},
     "Until Monday, Wednesday or Friday 09:30 (lead's time zone)",
     "Jusqu'à lundi, mercredi ou vendredi 09:30 (fuseau horaire du lead)"),
    ({"kind": "delay", "hours": 1, "window": OFFICE},
     "Wait 1 hour, within Mon–Fri 09:00–18:00 (lead's time zone)",
     "Attendre 1 heure, dans la plage lun–ven 09:00–18:00 (fuseau horaire du lead)"),
    ({"kind": "delay", "seconds": 0,
      "window": {"days": ["sat", "sun", "mon"], "start": "22:00", "end": "06:00"}},
     "No delay, within Sat–Mon 22:00–06:00 (lead's time zone)",
     "Sans délai, dans la plage sam–lun 22:00–06:00 (fuseau horaire du lead)"),
    ({"kind": "until", "at": "2026-03-14T09:00:00+01:00"},
     "Until 03/14/2026 9 a.m. (UTC+01:00)", "Jusqu'au 14/03/2026 09:00 (UTC+01:00)"),
])
def test_a_wait_is_described_in_english_and_french(spec, english, french):
    assert describe(spec, "en") == english
    assert describe(spec, "fr") == french
