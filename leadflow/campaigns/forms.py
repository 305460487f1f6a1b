"""The builder page's forms, parsed: campaign settings and one step's fields, as the
editor services take them (checks are theirs: a bad value comes back as InvalidInput
naming the field). Durations are typed as an amount and a unit."""

from __future__ import annotations

import json
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.campaigns import stepcheck
from leadflow.campaigns.models import Step
from leadflow.core.errors import InvalidInput

S = Step.Kind
UNITS = {"days": 86400, "hours": 3600, "minutes": 60}
UNIT_CHOICES = [("days", gettext_lazy("days")), ("hours", gettext_lazy("hours")),
                ("minutes", gettext_lazy("minutes"))]


def split_seconds(seconds: int) -> tuple[int, str]:
    """A duration as the largest unit that divides it: (2, "days")."""
    for unit, size in UNITS.items():
        if seconds and seconds % size == 0:
            return seconds // size, unit
    return (seconds // 60, "minutes") if seconds else (0, "days")


def _seconds(post: QueryDict, name: str) -> int:
    raw = post.get(f"{name}_amount", "").strip()
    unit = post.get(f"{name}_unit", "days")
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdecimal() and len(raw) < 8) or unit not in UNITS:
        raise InvalidInput(_("Give the duration as a whole number."), field=f"{name}_amount")
    return int(raw) * UNITS[unit]


def _int_or_none(value: str | None) -> int | str | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.lstrip("-").isdecimal() and len(value) < 12 \
        else (value or None)


def settings_from_post(post: QueryDict) -> dict[str, Any]:
    data: dict[str, Any] = {key: post.get(key, "") for key in (
        "name", "description", "entry_event_type", "goal_event_type", "reentry")}
    for key in ("entry_conditions", "goal_conditions"):
        data[key] = _conditions(post, key)
    data["entry_score"] = _int_or_none(post.get("entry_score"))
    for key in ("entry_score_group", "entry_segment", "sender", "test_list"):
        data[key] = _int_or_none(post.get(key))
    data["exit_on_segment_leave"] = post.get("exit_on_segment_leave") == "on"
    data["reentry_seconds"] = _seconds(post, "reentry")
    data["test_mode"] = post.get("test_mode") == "on"
    return data


def _conditions(post: QueryDict, prefix: str) -> list[dict[str, Any]]:
    """Rows of field / operator / value; empty rows are left out."""
    fields = post.getlist(f"{prefix}_field")
    ops = post.getlist(f"{prefix}_op")
    values = post.getlist(f"{prefix}_value")
    return [{"field": f.strip(), "op": o, "value": _typed(o, v)}
            for f, o, v in zip(fields, ops, values, strict=False) if f.strip()]


def _typed(op: str, value: str) -> Any:
    """A typed value as the conditions take it: a number for comparisons, true for
    "exists", a list for "one_of" (comma-separated)."""
    if op == "exists":
        return True
    if op == "one_of":
        return [v.strip() for v in value.split(",") if v.strip()]
    if op in ("gt", "gte", "lt", "lte"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return value


def step_changes(kind: str, post: QueryDict) -> dict[str, Any]:
    """The fields of one step's form (the kind fixes which ones it has)."""
    changes: dict[str, Any] = {"label": post.get("label", ""),
                               "next": _int_or_none(post.get("next")),
                               "count_machines": post.get("count_machines") == "on"}
    if stepcheck.family(kind) != "action":
        changes["no"] = _int_or_none(post.get("no"))
    config: dict[str, Any] = {}
    if kind == S.SEND_EMAIL:
        changes["template_id"] = _int_or_none(post.get("template_id"))
    elif kind == S.WAIT:
        if "wait_amount" not in post:  # a spec the form does not edit (a weekday...)
            return changes
        config["wait"] = {"kind": "delay", "seconds": _seconds(post, "wait")}
        changes["wait_seconds"] = 0
    elif kind == S.ADD_POINTS:
        changes["points"] = _int_or_none(post.get("points"))
    elif kind == S.SET_FIELD:
        config = {"field": post.get("field", ""), "value": post.get("value", "")}
    elif kind == S.CHANGE_STAGE:
        config = {"stage": post.get("stage", "")}
    elif kind == S.NOTIFY_OWNER:
        config = {"message": post.get("message", "")}
    elif kind == S.ASSIGN:
        if user := _int_or_none(post.get("user_id")):
            config = {"user_id": user}
    elif kind in (S.ADD_TO_LIST, S.REMOVE_FROM_LIST):
        config = {"list_id": _int_or_none(post.get("list_id"))}
    elif kind in (S.ADD_TO_SEGMENT, S.REMOVE_FROM_SEGMENT):
        config = {"segment_id": _int_or_none(post.get("segment_id"))}
    elif kind == S.START_CAMPAIGN:
        config = {"campaign_id": _int_or_none(post.get("campaign_id"))}
    elif kind == S.SPLIT:
        config = {"percent": _int_or_none(post.get("percent"))}
    elif kind == S.CONDITION:
        try:
            config = {"filter": json.loads(post.get("filter") or "{}")}
        except ValueError:
            raise InvalidInput(_("The filter is not valid JSON."), field="filter") from None
    elif stepcheck.family(kind) == "decision":
        config = {"within_seconds": _seconds(post, "within")}
        for key in ("url", "url_contains", "form", "event_type"):
            if key in stepcheck.CONFIG_KEYS.get(kind, ()):
                config[key] = post.get(key, "")
        where = _conditions(post, "where")
        if where:
            config["where"] = where
    if stepcheck.CONFIG_KEYS.get(kind) is not None:
        changes["config"] = config
    return changes


def step_state(step: dict[str, Any]) -> dict[str, Any]:
    """What one step's form shows: its fields, durations as amount and unit."""
    config = step.get("config") or {}
    state = dict(step)
    wait = config.get("wait") or {}
    seconds = wait.get("seconds", step.get("wait_seconds", 0)) if wait.get(
        "kind", "delay") == "delay" else 0
    state["wait_amount"], state["wait_unit"] = split_seconds(int(seconds or 0))
    state["wait_other"] = bool(wait) and wait.get("kind") != "delay" or "window" in wait
    state["within_amount"], state["within_unit"] = split_seconds(
        int(config.get("within_seconds") or 0))
    state["filter_json"] = json.dumps(config.get("filter") or {"all": []}, indent=1)
    state["where"] = config.get("where") or []
    state["takes"] = stepcheck.CONFIG_KEYS.get(step["kind"])
    return state
