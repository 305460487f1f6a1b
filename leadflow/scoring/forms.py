"""The editor pages' posted forms, read into the services' input (and kept as typed, so a
page with an error or a preview shows the input again).

A state is a dict of the texts the page shows; `rule_data`/`group_data` turn it into the
values `scoring.editor` checks. Conditions are rows of three inputs (cond_field, cond_op,
cond_value); a value is typed as text: "a, b" for one of, numbers for comparisons,
true/false for yes/no fields.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from leadflow.leads.models import Category
from leadflow.scoring import editor, wording
from leadflow.scoring.editor import GROUP_FIELDS
from leadflow.scoring.models import Per, RuleKind, ScoreGroup, ScoreRule

# The builder shows at least this many condition rows (blank ones are ignored).
MIN_CONDITION_ROWS = 2
_INT = re.compile(r"^-?(0|[1-9][0-9]{0,17})$")
_DECIMAL = re.compile(r"^-?[0-9]+\.[0-9]+$")


def notify_choice(post: QueryDict) -> bool | None:
    """The required yes/no "run hand-offs and campaign entries" radio (None: not chosen)."""
    return {"yes": True, "no": False}.get(post.get("notify", ""))


def rule_choices() -> dict[str, Any]:
    return {"groups": ScoreGroup.objects.all(), "kinds": RuleKind.choices,
            "categories": Category.choices, "operators": list(wording.OPERATOR_LABELS.items()),
            "pers": [(v, label) for v, label in Per.choices if v],
            "event_types": wording.event_types(),
            "event_properties": wording.EVENT_PROPERTIES,
            "attribute_fields": wording.attribute_fields()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    blank = {"field": "", "op": "equals", "value": ""}
    return rows + [dict(blank) for _ in range(MIN_CONDITION_ROWS - len(rows))]


def rule_state(rule: ScoreRule | None) -> dict[str, Any]:
    if rule is None:
        primary = ScoreGroup.objects.filter(is_primary=True).values_list("pk", flat=True)
        return {"name": "", "group": str(primary.first() or ""), "kind": RuleKind.EVENT,
                "event_type": "", "points": "", "category": Category.ENGAGEMENT,
                "frequency": "every", "max_times": "", "per": "", "valid_from": "",
                "valid_until": "", "active": True, "conditions": _rows([])}
    if not rule.max_times:
        frequency = "every"
    elif rule.max_times == 1 and not rule.per:
        frequency = "once"
    else:
        frequency = "at_most"
    return {"name": rule.name, "group": str(rule.group_id), "kind": rule.kind,
            "event_type": rule.event_type, "points": str(rule.points),
            "category": rule.category, "frequency": frequency,
            "max_times": str(rule.max_times or "") if frequency == "at_most" else "",
            "per": rule.per, "valid_from": _local(rule.valid_from),
            "valid_until": _local(rule.valid_until), "active": rule.active,
            "conditions": _rows([{"field": str(c.get("field", "")), "op": str(c.get("op", "")),
                                  "value": _text(c.get("value"))}
                                 for c in rule.conditions or ()])}


def rule_state_from_post(post: QueryDict) -> dict[str, Any]:
    rows = [{"field": f.strip(), "op": o, "value": v.strip()}
            for f, o, v in zip(post.getlist("cond_field"), post.getlist("cond_op"),
                               post.getlist("cond_value"), strict=False)
            if f.strip() or v.strip()]
    state: dict[str, Any] = {key: post.get(key, "").strip() for key in (
        "name", "group", "kind", "event_type", "points", "category", "frequency",
        "max_times", "per", "valid_from", "valid_until")}
    state["active"] = post.get("active") == "on"
    state["conditions"] = _rows(rows)
    return state


def _typed(op: str, text: str) -> Any:
    """A condition's value from its text: a list for one of, a number when it reads as
    one, true/false as booleans, else the text."""
    if op == "exists":
        return True
    if op == "one_of":
        return [_typed("equals", part.strip()) for part in text.split(",") if part.strip()]
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return float(text)
    return text


def rule_data(state: dict[str, Any]) -> dict[str, Any]:
    frequency = state.get("frequency")
    max_times: Any = {"every": None, "once": 1}.get(str(frequency),
                                                   state.get("max_times"))
    conditions = [{"field": row["field"], "op": row["op"],
                   "value": _typed(row["op"], row["value"])}
                  for row in state["conditions"] if row["field"] or row["value"]]
    return {"name": state["name"], "group": state["group"] or None, "kind": state["kind"],
            "event_type": state["event_type"] if state["kind"] == RuleKind.EVENT else "",
            "conditions": conditions, "points": state["points"],
            "category": state["category"], "max_times": max_times,
            "per": state["per"] if frequency == "at_most" else "",
            "valid_from": state["valid_from"], "valid_until": state["valid_until"],
            "active": state["active"]}


def group_state(group: ScoreGroup | None) -> dict[str, Any]:
    if group is None:
        state = {f: _text(editor.group_default(f)) for f in GROUP_FIELDS}
        return {**state, "primary": False}
    return {**{f: _text(getattr(group, f)) for f in GROUP_FIELDS}, "primary": group.is_primary}


def group_state_from_post(post: QueryDict) -> dict[str, Any]:
    return {**{f: post.get(f, "").strip() for f in GROUP_FIELDS},
            "primary": post.get("primary") == "on"}


def group_data(state: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    return {f: state[f] for f in GROUP_FIELDS}, bool(state["primary"])


def group_fields() -> list[tuple[str, str, str]]:
    """(name, label, "text" | "number") of a group's form, in order."""
    return [(name, wording.field_label(ScoreGroup, name).capitalize(),
             "text" if name in ("name", "slug") else "number") for name in GROUP_FIELDS]
