"""Campaign waits: when a lead waiting in a step goes on (issue 12, "Waits").

A wait is a JSON spec kept in the step's config, checked by `validate`:

    {"kind": "delay", "seconds": 172800}        (or "days", "hours", "minutes")
    {"kind": "until", "at": "2026-03-14T09:00:00+01:00"}
    {"kind": "weekday", "days": ["mon", "thu"], "time": "09:30"}

and on any of them a send window, {"window": {"days": ["mon", ..., "fri"], "start": "09:00",
"end": "18:00"}} (start > end: the window runs past midnight into the next day). Weekdays,
times and windows are read in the lead's time zone (leads.timezones).

`due_times` computes the moment for a whole batch of leads without touching the database:
the moment depends on the zone only, so it is computed once per distinct zone.

The rules, whatever the zone and its clock changes:
- a wait is never shortened: the result is at or after now + delay, the `at` of "until"
  (now if it has passed), and strictly after now for "weekday" (a campaign looping back
  on a weekday wait must not run twice in the same instant);
- a moment already inside the window stays; otherwise it moves to the window's next
  opening;
- a local time the clocks skip (02:30 on a spring-forward night) means the moment they
  jump; a local time they repeat means its first occurrence;
- "days" of a delay are 24 hours each, across a clock change too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db.models.fields.json import KT
from django.utils import formats, translation
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from leadflow.core.errors import InvalidInput
from leadflow.leads.timezones import EXPLICIT_KEYS, zone_name

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from leadflow.leads.models import Lead

DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = ("delay", "until", "weekday")
DELAY_UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
MAX_DELAY_DAYS = 3660
_DAY = 24 * 60  # minutes
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class LeadTZ(NamedTuple):
    """What decides a lead's zone; a row of values_list("id", "country", "city", "custom")
    fits as it is (LeadTZ(*row))."""

    id: int
    country: str = ""
    city: str = ""
    custom: Mapping[str, Any] | None = None


def lead_rows(leads: QuerySet[Lead]) -> list[LeadTZ]:
    """The leads' LeadTZ rows in one query, reading only the zone keys of `custom`."""
    keys = [KT(f"custom__{key}") for key in EXPLICIT_KEYS]
    return [LeadTZ(row[0], row[1], row[2], dict(zip(EXPLICIT_KEYS, row[3:], strict=True)))
            for row in leads.values_list("id", "country", "city", *keys)]


# --- validation -----------------------------------------------------------------------

def _refuse_unknown(data: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        field = prefix + str(unknown[0])
        raise InvalidInput(_("Unknown field: %(field)s.") % {"field": field}, field=field)


def _minutes(value: Any, field: str, *, end: bool = False) -> int:
    """"HH:MM" as minutes after midnight; "24:00" only as the end of a window."""
    match = _TIME.match(value) if isinstance(value, str) else None
    minutes = int(match[1]) * 60 + int(match[2]) if match else -1
    if not match or minutes > _DAY or (minutes == _DAY and not end):
        raise InvalidInput(_("Give a time as HH:MM, e.g. 09:30."), field=field)
    return minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days(value: Any, field: str) -> list[str]:
    """Day codes, each once, Monday first."""
    if not isinstance(value, list) or not value or not all(
            isinstance(day, str) and day.lower() in DAY_CODES for day in value):
        raise InvalidInput(_("Choose at least one day among mon, tue, wed, thu, fri, sat, "
                             "sun."), field=field)
    chosen = {day.lower() for day in value}
    return [day for day in DAY_CODES if day in chosen]


def _window(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        raise InvalidInput(_("The send window must be an object with days, start and end."),
                           field="window")
    _refuse_unknown(value, ("days", "start", "end"), "window.")
    days = _days(value.get("days", list(DAY_CODES)), "window.days")
    start = _minutes(value.get("start", "00:00"), "window.start")
    end = _minutes(value.get("end", "24:00"), "window.end", end=True)
    if start == end:
        raise InvalidInput(_("The window must end at another time than it starts."),
                           field="window.end")
    if len(days) == 7 and (start, end) == (0, _DAY):
        return None  # always open: no window
    return {"days": days, "start": _hhmm(start), "end": _hhmm(end)}


def _delay_seconds(spec: Mapping[str, Any]) -> int:
    given = [unit for unit in DELAY_UNITS if unit in spec]
    if not given:
        raise InvalidInput(_("Give the delay in days, hours, minutes or seconds."),
                           field="seconds")
    total = 0
    for unit in given:
        value = spec[unit]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(_("%(field)s must be a whole number, 0 or more.")
                               % {"field": unit}, field=unit)
        total += value * DELAY_UNITS[unit]
    if total > MAX_DELAY_DAYS * 86400:
        raise InvalidInput(_("A delay may be at most %(days)d days.")
                           % {"days": MAX_DELAY_DAYS}, field=given[0])
    return total


def _parse_at(value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.utcoffset() is None:
        raise InvalidInput(_("Give the date and time with its UTC offset, e.g. "
                             "2026-03-14T09:00:00+01:00."), field="at")
    return at


def validate(spec: Any) -> dict[str, Any]:
    """The wait spec, checked and normalised (delays in seconds, days Monday first, times
    as HH:MM, the window's defaults filled in); raises InvalidInput naming the field."""
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        raise InvalidInput(_("Choose the kind of wait: delay, until or weekday."),
                           field="kind")
    kind = spec["kind"]
    fields = {"delay": DELAY_UNITS.keys(), "until": ("at",), "weekday": ("days", "time")}
    _refuse_unknown(spec, ("kind", "window", *fields[kind]))
    clean: dict[str, Any] = {"kind": kind}
    if kind == "delay":
        clean["seconds"] = _delay_seconds(spec)
    elif kind == "until":
        clean["at"] = _parse_at(spec.get("at")).isoformat()
    else:
        clean["days"] = _days(spec.get("days"), "days")
        clean["time"] = _hhmm(_minutes(spec.get("time"), "time"))
    window = _window(spec["window"]) if "window" in spec else None
    if window:
        clean["window"] = window
    if kind == "delay" and not clean["seconds"] and not window:
        raise InvalidInput(_("A delay must be longer than zero."), field="seconds")
    return clean


# --- computing ------------------------------------------------------------------------

def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC moment of a local day and time: its first occurrence when the clocks repeat
    it, the moment they jump when they skip it."""
    day, minutes = day + timedelta(days=minutes // _DAY), minutes % _DAY
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    later = wall.astimezone(UTC)  # fold=0: the offset before a change
    if later.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return later
    # Skipped: the jump lies between the two readings of the wall time; find its second.
    low = wall.replace(fold=1).astimezone(UTC)
    after = later.astimezone(zone).utcoffset()
    while later - low > timedelta(seconds=1):
        middle = (low + (later - low) / 2).replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == after:
            later = middle
        else:
            low = middle
    return later


def _inside(moment: datetime, zone: ZoneInfo, days: set[int], start: int, end: int) -> bool:
    """Whether the local wall time of `moment` lies in the window."""
    local = moment.astimezone(zone)
    minute, weekday = local.hour * 60 + local.minute, local.weekday()
    if start < end:
        return weekday in days and start <= minute < end
    return ((weekday in days and minute >= start)
            or ((weekday - 1) % 7 in days and minute < end))


def _into_window(moment: datetime, zone: ZoneInfo, window: Mapping[str, Any]) -> datetime:
    """`moment` if inside the window, else the window's next opening."""
    days = {DAY_CODES.index(day) for day in window["days"]}
    start = _minutes(window["start"], "window.start")
    end = _minutes(window["end"], "window.end", end=True)
    if _inside(moment, zone, days, start, end):
        return moment
    first = moment.astimezone(zone).date()
    # Two weeks: a window swallowed by a clock change on one day opens the next week.
    for day in (first + timedelta(days=n) for n in range(-1, 15)):
        if day.weekday() not in days:
            continue
        opens = _instant(day, start, zone)
        closes = _instant(day, end if start < end else end + _DAY, zone)
        if opens > moment and closes > opens:
            return opens
    raise AssertionError("a window with a day always opens within two weeks")


def _next_weekday(now: datetime, zone: ZoneInfo, spec: Mapping[str, Any]) -> datetime:
    days = {DAY_CODES.index(day) for day in spec["days"]}
    minutes = _minutes(spec["time"], "time")
    first = now.astimezone(zone).date()
    for day in (first + timedelta(days=n) for n in range(15)):
        if day.weekday() in days and (moment := _instant(day, minutes, zone)) > now:
            return moment
    raise AssertionError("a weekday comes back within two weeks")


def _due(spec: Mapping[str, Any], now: datetime, zone: ZoneInfo) -> datetime:
    if spec["kind"] == "delay":
        moment = now + timedelta(seconds=spec["seconds"])
    elif spec["kind"] == "until":
        moment = max(datetime.fromisoformat(spec["at"]).astimezone(UTC), now)
    else:
        moment = _next_weekday(now, zone, spec)
    return _into_window(moment, zone, spec["window"]) if "window" in spec else moment


def uses_lead_zone(spec: Mapping[str, Any]) -> bool:
    """Whether the wait's moment depends on the lead's time zone."""
    return spec.get("kind") == "weekday" or bool(spec.get("window"))


def due_times(spec: Mapping[str, Any], leads: Iterable[LeadTZ],
              now: datetime) -> dict[int, datetime]:
    """Lead id -> the UTC moment its wait ends, for a wait starting at `now` (aware).

    No query: the leads' zones come from their rows (see `lead_rows`), and the moment is
    computed once per distinct zone.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    clean, now = validate(dict(spec)), now.astimezone(UTC)
    if not uses_lead_zone(clean):
        moment = _due(clean, now, ZoneInfo("UTC"))
        return {lead[0]: moment for lead in leads}
    per_zone: dict[str, datetime] = {}
    result = {}
    for lead in leads:
        lead = LeadTZ(*lead)
        name = zone_name(lead.country, lead.city, lead.custom)
        if name not in per_zone:
            per_zone[name] = _due(clean, now, ZoneInfo(name))
        result[lead.id] = per_zone[name]
    return result


# --- describing -----------------------------------------------------------------------

def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes)
                     % {"count": minutes})
    if seconds:
        parts.append(ngettext("%(count)d second", "%(count)d seconds", seconds)
                     % {"count": seconds})
    return ", ".join(parts)


def _day_names(codes: list[str], names: Mapping[int, Any], joiner: str) -> list[str]:
    """Day names, runs of three days or more as a range (Mon–Fri); a run may wrap past
    Sunday (Sat–Mon)."""
    chosen = [DAY_CODES.index(code) for code in codes]
    if 0 in chosen and 6 in chosen and len(chosen) < 7:
        # Start after the last day left out, so that Saturday to Monday is one run.
        gap = max(day for day in range(7) if day not in chosen)
        chosen = [day for day in range(gap + 1, gap + 8) if day % 7 in chosen]
    runs: list[list[int]] = []
    for day in chosen:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    shown = []
    for run in runs:
        if len(run) >= 3:
            shown.append(f"{names[run[0] % 7]}{joiner}{names[run[-1] % 7]}")
        else:
            shown.extend(str(names[day % 7]) for day in run)
    return shown


def _window_text(window: Mapping[str, Any]) -> str:
    parts = []
    if len(window["days"]) < 7:
        parts.append(", ".join(_day_names(window["days"], WEEKDAYS_ABBR, "–")))
    if (window["start"], window["end"]) != ("00:00", "24:00"):
        parts.append(f"{window['start']}–{window['end']}")
    return " ".join(parts)


def describe(spec: Mapping[str, Any], language: str | None = None) -> str:
    """A short text for the campaign graph, e.g. "Wait 2 days", "Until Monday 09:00 (lead's
    time zone)", "Wait 1 day, within Mon–Fri 09:00–18:00 (lead's time zone)"; in
    `language` (default: the active one)."""
    clean = validate(dict(spec))
    with translation.override(language or translation.get_language()):
        if clean["kind"] == "delay":
            text = (_("Wait %(duration)s") % {"duration": _duration(clean["seconds"])}
                    if clean["seconds"] else _("No delay"))
        elif clean["kind"] == "until":
            at = datetime.fromisoformat(clean["at"])
            offset = at.strftime("%z")
            text = _("Until %(moment)s") % {"moment": "{} (UTC{}:{})".format(
                formats.date_format(at, "SHORT_DATETIME_FORMAT"), offset[:3], offset[3:5])}
        else:
            names: list[Any] = _day_names(clean["days"], WEEKDAYS, "–")
            days = get_text_list(names, gettext_lazy("or"))
            text = _("Until %(days)s %(time)s") % {"days": days, "time": clean["time"]}
        if "window" in clean:
            text = _("%(wait)s, within %(window)s") % {
                "wait": text, "window": _window_text(clean["window"])}
        if uses_lead_zone(clean):
            text = _("%(wait)s (lead's time zone)") % {"wait": text}
        return str(text)
