"""The segment filter language: its grammar, its validation, and what a tree reads.

A filter is a JSON tree (docs/segments.md):
  {"all": [f, ...]}  every one holds (an empty "all" holds for every lead)
  {"any": [f, ...]}  at least one holds (an empty "any" holds for none)
  {"not": f}
and leaves:
  {"field": F, "op": OP, "value": V}       a lead or company field, a custom field, a
                                           score: the operators and the missing-value
                                           rules of scoring.conditions
  {"score_group": G, "field": "total"|"fit"|"engagement"|"interest"|"grade", "op", "value"}
  {"quality_flag": CODE}                   the lead has this data quality flag
  {"event": {"type": T, "where": [conditions on its properties], "min": N, "max": N,
             "within_days": D}}            at least N (default 1) / at most N such events
  {"email": {"action": "opened"|"clicked"|"not_opened"|"not_clicked", "campaign": ID,
             "within_days": D, "min": N, "machines": false}}
  {"purchase": {"product": P, "product_range": R, "min_value": X, "max_value": Y,
                "min": N, "max": N, "within_days": D}}
  {"inactive_days": D}                     none of the lead's own activity for D days
  {"segment": ID}, {"list": ID}            a member of another segment, of a static list

`validate` checks the shape and values (not that referenced rows exist: filters.validate
does) and returns a normalised copy; `behaviour` turns the event, email and purchase
leaves into one form the SQL compiler and the Python evaluator share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from leadflow.core.errors import InvalidInput, contains_nul
from leadflow.scoring.conditions import (
    COMPANY_FIELDS,
    LEAD_FIELDS,
    NUMERIC_OPS,
    TEXT_OPS,
    validate_conditions,
)
from leadflow.scoring.models import OPERATORS, RuleKind

# A custom field's key, as JSON paths take it (scoring.conditions reads it alike).
CUSTOM_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,60}$")
MAX_DEPTH = 10
MAX_NODES = 100
MAX_COUNT = 1_000_000
MAX_DAYS = 3650
MAX_NUMBER = 10**15

# The lead's columns a field leaf reads, by how their values compare (scoring.conditions
# semantics): text ("" is missing), booleans (null is unknown, i.e. missing), integers.
TEXT, BOOL, INT = "text", "bool", "int"
FIELD_KINDS: dict[str, str] = {
    **{name: TEXT for name in ("title", "country", "city", "language", "company_name",
                               "channel", "source", "medium", "campaign", "stage",
                               "timing", "email_domain", "grade")},
    **{name: BOOL for name in ("budget", "authority", "need", "do_not_email",
                               "do_not_call", "marketing_consent",
                               "contact_data_incorrect")},
    **{name: INT for name in ("score", "fit_score", "engagement_score", "interest_score",
                              "owner", "team")},
}
assert set(LEAD_FIELDS) <= set(FIELD_KINDS)
# The lead table's column behind a field name, where they differ.
COLUMNS = {"owner": "owner_id", "team": "team_id"}
COMPANY_KINDS = {name: (INT if name == "size" else TEXT) for name in COMPANY_FIELDS}
GROUP_FIELDS = {"total": INT, "fit": INT, "engagement": INT, "interest": INT, "grade": TEXT}
# The primary group's totals live on the lead row.
PRIMARY_COLUMNS = {"total": "score", "fit": "fit_score", "engagement": "engagement_score",
                   "interest": "interest_score", "grade": "grade"}
EMAIL_ACTIONS = ("opened", "clicked", "not_opened", "not_clicked")
GROUPS = ("all", "any", "not")
LEAVES = ("field", "score_group", "quality_flag", "event", "email", "purchase",
          "inactive_days", "segment", "list")
# An email open or click of a proxy or scanner (emails.engagement); the rest is a person's.
MACHINE = {"field": "engagement", "op": "equals", "value": "machine"}


@dataclass(frozen=True)
class Behaviour:
    """An event, email or purchase leaf, in one form: the lead has at least `min` and at
    most `max` (None: no bound) events of `type` whose properties match `where` and, when
    `unless` is given, do not match it, that occurred within `days` days (None: ever)."""

    type: str
    where: tuple[dict, ...]
    unless: tuple[dict, ...]
    min: int
    max: int | None
    days: int | None


def kind_of(node: dict) -> str:
    """The key that names a node's kind ("all", "event", "field", ...)."""
    if "score_group" in node:
        return "score_group"
    for key in (*GROUPS, *LEAVES):
        if key in node:
            return key
    return ""


def validate(tree: Any) -> dict:
    """The tree, checked and normalised; InvalidInput names the node at fault with a
    path such as `filter.all.2.event.min`."""
    if contains_nul(tree):
        raise InvalidInput(_("Text may not contain NUL characters."), field="filter")
    counter = [0]
    return _node(tree, "filter", 1, counter)


def _fail(message: str, path: str) -> InvalidInput:
    return InvalidInput(message, field=path)


def _node(node: Any, path: str, depth: int, counter: list[int]) -> dict:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _fail(_("A filter has at most %(n)d conditions and groups.") % {"n": MAX_NODES},
                    path)
    if depth > MAX_DEPTH:
        raise _fail(_("Groups nest at most %(n)d deep.") % {"n": MAX_DEPTH}, path)
    if not isinstance(node, dict) or not node:
        raise _fail(_("A filter is an object: a group (all, any, not) or a condition."), path)
    kind = kind_of(node)
    if kind in ("all", "any"):
        _keys(node, {kind}, path)
        items = node[kind]
        if not isinstance(items, list):
            raise _fail(_("%(kind)s takes a list of conditions.") % {"kind": kind},
                        f"{path}.{kind}")
        return {kind: [_node(item, f"{path}.{kind}.{i}", depth + 1, counter)
                       for i, item in enumerate(items)]}
    if kind == "not":
        _keys(node, {"not"}, path)
        return {"not": _node(node["not"], f"{path}.not", depth + 1, counter)}
    if not kind:
        raise _fail(_("Unknown condition: use a group (all, any, not) or one of %(kinds)s.")
                    % {"kinds": ", ".join(LEAVES)}, path)
    return _LEAF[kind](node, path)


def _keys(node: dict, allowed: set[str], path: str) -> None:
    unknown = sorted(set(node) - allowed)
    if unknown:
        raise _fail(_("Unknown key %(key)s.") % {"key": unknown[0]}, f"{path}.{unknown[0]}")


def _int(value: Any, path: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(_("A whole number from %(low)s to %(high)s.") % {
            "low": low, "high": f"{high:,}"}, path)
    return value


def _id(value: Any, path: str) -> int:
    return _int(value, path, 1, 2**63 - 1)


def _is_number(v: Any) -> bool:
    # Bounded: SQLite binds 64-bit integers only, and JSON may carry NaN or infinities.
    return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            and abs(v) <= MAX_NUMBER)


def _comparison(node: dict, path: str, field: str) -> dict:
    """op and value of a field leaf, checked as scoring.conditions checks a rule's."""
    op, value = node.get("op"), node.get("value")
    if op not in OPERATORS:
        raise _fail(_("Unknown operator %(op)s (use one of %(ops)s).") % {
            "op": op, "ops": ", ".join(OPERATORS)}, f"{path}.op")
    if op != "exists" and value in (None, ""):
        raise _fail(_("Give a value to compare with."), f"{path}.value")
    if not _valid_value(op, value):
        raise _fail(_("The value does not suit the operator %(op)s.") % {"op": op},
                    f"{path}.value")
    return {"field": field, "op": op, "value": value}


def _valid_value(op: str, value: Any) -> bool:
    if op == "exists":
        return isinstance(value, bool)
    if op in NUMERIC_OPS:
        return _is_number(value)
    if op in TEXT_OPS:
        return isinstance(value, str) and value != ""
    if op == "one_of":
        return (isinstance(value, list) and 0 < len(value) <= 200
                and all(_valid_value("equals", v) for v in value))
    return isinstance(value, bool) or _is_number(value) or (isinstance(value, str)
                                                             and 0 < len(value) <= 500)


def _field(node: dict, path: str) -> dict:
    _keys(node, {"field", "op", "value"}, path)
    field = node.get("field")
    known = isinstance(field, str) and (
        field in FIELD_KINDS
        or (field.startswith("custom.") and bool(CUSTOM_KEY.match(field[len("custom."):])))
        or (field.startswith("company.") and field[len("company."):] in COMPANY_KINDS))
    if not known:
        raise _fail(_("Unknown field %(field)s.") % {"field": field}, f"{path}.field")
    if field in ("owner", "team") and node.get("value") == "none":
        # "Unassigned" / "no team": the id is missing.
        node = {**node, "op": "exists", "value": False}
    return _comparison(node, path, str(field))


def _score_group(node: dict, path: str) -> dict:
    _keys(node, {"score_group", "field", "op", "value"}, path)
    group = _id(node.get("score_group"), f"{path}.score_group")
    if node.get("field") not in GROUP_FIELDS:
        raise _fail(_("A score group's field is one of %(fields)s.") % {
            "fields": ", ".join(GROUP_FIELDS)}, f"{path}.field")
    out = _comparison(node, path, node["field"])
    return {"score_group": group, **out}


def _quality_flag(node: dict, path: str) -> dict:
    from leadflow.leads.quality import ALL_FLAGS

    _keys(node, {"quality_flag"}, path)
    if node["quality_flag"] not in ALL_FLAGS:
        raise _fail(_("Unknown quality flag (use one of %(flags)s).") % {
            "flags": ", ".join(ALL_FLAGS)}, f"{path}.quality_flag")
    return {"quality_flag": node["quality_flag"]}


def _counts(spec: dict, path: str, out: dict) -> None:
    """min, max and within_days of a behaviour leaf, into `out`."""
    for key in ("min", "max"):
        if spec.get(key) is not None:
            out[key] = _int(spec[key], f"{path}.{key}", 0, MAX_COUNT)
    if "min" in out and "max" in out and out["min"] > out["max"]:
        raise _fail(_("At least %(min)s and at most %(max)s cannot both hold.") % out,
                    f"{path}.max")
    if spec.get("within_days") is not None:
        out["within_days"] = _int(spec["within_days"], f"{path}.within_days", 1, MAX_DAYS)


def _where(where: Any, path: str) -> list[dict]:
    if where is None:
        return []
    try:
        conditions = [dict(c) for c in validate_conditions(RuleKind.EVENT, where)]
    except InvalidInput as exc:
        at = (exc.field or "").removeprefix("conditions")
        raise _fail(exc.message, f"{path}{at}") from None
    if len(conditions) > 20:
        raise _fail(_("At most 20 conditions on an event's properties."), path)
    for i, c in enumerate(conditions):
        value = c.get("value")
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, int | float) and not isinstance(v, bool) and not _is_number(v)
               for v in values):
            raise _fail(_("Numbers are at most %(n)s.") % {"n": f"{MAX_NUMBER:,}"},
                        f"{path}.{i}.value")
    return conditions


def _event(node: dict, path: str) -> dict:
    from leadflow.tracking.events import TYPE_NAME

    _keys(node, {"event"}, path)
    spec, path = node["event"], f"{path}.event"
    if not isinstance(spec, dict):
        raise _fail(_("An event condition is an object with a type."), path)
    _keys(spec, {"type", "where", "min", "max", "within_days"}, path)
    if not isinstance(spec.get("type"), str) or not TYPE_NAME.match(spec["type"]):
        raise _fail(_("Give the event type (lower case letters, digits, _ . : -)."),
                    f"{path}.type")
    out: dict[str, Any] = {"type": spec["type"]}
    if where := _where(spec.get("where"), f"{path}.where"):
        out["where"] = where
    _counts(spec, path, out)
    return {"event": out}


def _email(node: dict, path: str) -> dict:
    _keys(node, {"email"}, path)
    spec, path = node["email"], f"{path}.email"
    if not isinstance(spec, dict):
        raise _fail(_("An email condition is an object with an action."), path)
    _keys(spec, {"action", "campaign", "within_days", "min", "machines"}, path)
    if spec.get("action") not in EMAIL_ACTIONS:
        raise _fail(_("The action is one of %(actions)s.") % {
            "actions": ", ".join(EMAIL_ACTIONS)}, f"{path}.action")
    out: dict[str, Any] = {"action": spec["action"]}
    if spec.get("campaign") is not None:
        out["campaign"] = _id(spec["campaign"], f"{path}.campaign")
    if spec.get("min") is not None:
        if spec["action"].startswith("not_"):
            raise _fail(_("\"Not opened\" and \"not clicked\" take no count."), f"{path}.min")
        out["min"] = _int(spec["min"], f"{path}.min", 1, MAX_COUNT)
    if spec.get("within_days") is not None:
        out["within_days"] = _int(spec["within_days"], f"{path}.within_days", 1, MAX_DAYS)
    if spec.get("machines") is not None:
        if not isinstance(spec["machines"], bool):
            raise _fail(_("machines is true or false."), f"{path}.machines")
        out["machines"] = spec["machines"]
    return {"email": out}


def _purchase(node: dict, path: str) -> dict:
    _keys(node, {"purchase"}, path)
    spec, path = node["purchase"], f"{path}.purchase"
    if not isinstance(spec, dict):
        raise _fail(_("A purchase condition is an object (it may be empty: any purchase)."),
                    path)
    _keys(spec, {"product", "product_range", "min_value", "max_value", "min", "max",
                 "within_days"}, path)
    out: dict[str, Any] = {}
    for key in ("product", "product_range"):
        if spec.get(key) not in (None, ""):
            if not isinstance(spec[key], str) or len(spec[key]) > 200:
                raise _fail(_("A text of at most 200 characters."), f"{path}.{key}")
            out[key] = spec[key]
    for key in ("min_value", "max_value"):
        if spec.get(key) is not None:
            if not _is_number(spec[key]):
                raise _fail(_("A number."), f"{path}.{key}")
            out[key] = spec[key]
    _counts(spec, path, out)
    return {"purchase": out}


def _inactive(node: dict, path: str) -> dict:
    _keys(node, {"inactive_days"}, path)
    return {"inactive_days": _int(node["inactive_days"], f"{path}.inactive_days", 1,
                                  MAX_DAYS)}


def _reference(key: str):
    def check(node: dict, path: str) -> dict:
        _keys(node, {key}, path)
        return {key: _id(node[key], f"{path}.{key}")}
    return check


_LEAF = {"field": _field, "score_group": _score_group, "quality_flag": _quality_flag,
         "event": _event, "email": _email, "purchase": _purchase,
         "inactive_days": _inactive, "segment": _reference("segment"),
         "list": _reference("list")}


# --- what a (valid) tree reads --------------------------------------------------------

def leaves(tree: dict) -> Iterator[dict]:
    kind = kind_of(tree)
    if kind in ("all", "any"):
        for item in tree[kind]:
            yield from leaves(item)
    elif kind == "not":
        yield from leaves(tree["not"])
    else:
        yield tree


def behaviour(leaf: dict) -> Behaviour | None:
    """The event, email or purchase leaf in its one form (None for other leaves)."""
    from leadflow.tracking.models import EventType

    if "event" in leaf:
        spec = leaf["event"]
        return Behaviour(spec["type"], tuple(spec.get("where", ())), (),
                         spec.get("min", 1 if spec.get("max") is None else 0),
                         spec.get("max"), spec.get("within_days"))
    if "email" in leaf:
        spec = leaf["email"]
        action = spec["action"]
        kind = EventType.EMAIL_OPENED if action.endswith("opened") else EventType.EMAIL_CLICKED
        where = ({"field": "campaign_id", "op": "equals", "value": spec["campaign"]},) \
            if "campaign" in spec else ()
        unless = () if spec.get("machines") else (MACHINE,)
        if action.startswith("not_"):
            return Behaviour(kind, where, unless, 0, 0, spec.get("within_days"))
        return Behaviour(kind, where, unless, spec.get("min", 1), None,
                         spec.get("within_days"))
    if "purchase" in leaf:
        spec = leaf["purchase"]
        conditions = [{"field": key, "op": "equals", "value": spec[key]}
                      for key in ("product", "product_range") if key in spec]
        if "min_value" in spec:
            conditions.append({"field": "value", "op": "gte", "value": spec["min_value"]})
        if "max_value" in spec:
            conditions.append({"field": "value", "op": "lte", "value": spec["max_value"]})
        return Behaviour(EventType.PURCHASE, tuple(conditions), (),
                         spec.get("min", 1 if spec.get("max") is None else 0),
                         spec.get("max"), spec.get("within_days"))
    return None


def is_time_dependent(tree: dict) -> bool:
    """Whether membership can change with no event: a window of days, or inactivity."""
    for leaf in leaves(tree):
        if "inactive_days" in leaf:
            return True
        spec = behaviour(leaf)
        if spec is not None and spec.days is not None:
            return True
    return False


def references(tree: dict, key: str) -> set[int]:
    """The ids of the segments (key "segment") or lists ("list") the tree reads."""
    return {leaf[key] for leaf in leaves(tree) if key in leaf}
