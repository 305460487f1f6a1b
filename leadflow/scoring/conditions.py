"""What a rule's conditions mean: once in Python (`matches`), once in SQL (`event_sql`), with
one semantics on SQLite and PostgreSQL, so that the incremental pipeline (Python, on the
batch in memory) and a full re-score (SQL, on the whole table) always agree. The property
test in tests/test_incremental_equals_rescore.py holds them to it.

A condition is {"field": name, "op": one of OPERATORS, "value": ...}; a rule's conditions
all have to hold. The semantics:
- A value is *missing* when the field is absent, null or the empty string. A missing value
  matches nothing but `exists` with value false.
- `exists` (value true or false): the value is (not) missing.
- Text: `equals`, `contains`, `starts_with` with a text value, and `one_of` with texts,
  match a text value only, ignoring the case of the ASCII letters A-Z (the only folding
  both databases and Python do alike without extensions).
- Numbers: `gt`, `gte`, `lt`, `lte` (and `equals` / `one_of` with a number) match a JSON
  number only (a text "50" is not the number 50; true is not 1), compared as numbers.
- Booleans: `equals` true / false matches a JSON boolean only.

Event rules read the event's properties. Attribute rules read the lead: its columns by name
("title", "country", "budget", ...), "custom.<key>" and "company.<field>"; they are
evaluated in Python on the lead rows (`lead_values`), a chunk of leads at a time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from leadflow.core.errors import InvalidInput
from leadflow.scoring.models import OPERATORS, RuleKind

_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_MISSING = object()
# Property names become JSON paths in SQL: plain names only (no nesting, no quoting).
_FIELD = re.compile(r"^[A-Za-z0-9_\-]{1,60}$")
NUMERIC_OPS = ("gt", "gte", "lt", "lte")
TEXT_OPS = ("contains", "starts_with")

# The lead's values an attribute rule may read (besides custom.<key>).
LEAD_FIELDS = ("title", "country", "city", "language", "company_name", "channel", "source",
               "medium", "campaign", "stage", "budget", "authority", "need", "timing",
               "do_not_email", "do_not_call", "marketing_consent", "contact_data_incorrect",
               "email_domain")
COMPANY_FIELDS = ("name", "domain", "size", "industry", "country")


def fold(text: str) -> str:
    return text.translate(_FOLD)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _value(values: Mapping[str, Any], field: str) -> Any:
    v = values.get(field, _MISSING)
    return _MISSING if v is None or v == "" else v


def _equals(prop: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return isinstance(prop, bool) and prop == wanted
    if _is_number(wanted):
        return _is_number(prop) and prop == wanted
    return isinstance(prop, str) and fold(prop) == fold(wanted)


def _holds(condition: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    op = condition["op"]
    wanted: Any = condition.get("value")
    prop = _value(values, condition["field"])
    if op == "exists":
        return (prop is not _MISSING) == bool(wanted)
    if prop is _MISSING:
        return False
    if op == "equals":
        return _equals(prop, wanted)
    if op == "one_of":
        return any(_equals(prop, w) for w in wanted)
    if op in TEXT_OPS:
        if not isinstance(prop, str):
            return False
        if op == "contains":
            return fold(wanted) in fold(prop)
        return fold(prop).startswith(fold(wanted))
    if not _is_number(prop):
        return False
    return {"gt": prop > wanted, "gte": prop >= wanted, "lt": prop < wanted,
            "lte": prop <= wanted}[op]


def matches(conditions: list[dict], values: Mapping[str, Any]) -> bool:
    """Whether every condition holds for `values` (an event's properties, or a lead's
    `lead_values`)."""
    return all(_holds(c, values) for c in conditions or ())


def lead_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """The values an attribute rule reads, from a row with the LEAD_FIELDS, "custom" and
    "company__<field>" keys (see `lead_row_fields`)."""
    values = {name: row.get(name) for name in LEAD_FIELDS}
    for key, v in (row.get("custom") or {}).items():
        values[f"custom.{key}"] = v
    for name in COMPANY_FIELDS:
        values[f"company.{name}"] = row.get(f"company__{name}")
    return values


def lead_row_fields() -> tuple[str, ...]:
    return ("id", *LEAD_FIELDS, "custom", *(f"company__{n}" for n in COMPANY_FIELDS))


def values_of_lead(lead: Any) -> dict[str, Any]:
    """`lead_values` of an unsaved (or in-memory) Lead object."""
    row = {name: getattr(lead, name) for name in LEAD_FIELDS}
    row["custom"] = lead.custom
    company = lead.company if lead.company_id else None
    for name in COMPANY_FIELDS:
        row[f"company__{name}"] = getattr(company, name) if company else None
    return lead_values(row)


def validate_conditions(kind: str, conditions: Any) -> list[dict]:
    """The conditions, checked (raises InvalidInput with what is wrong)."""
    if not isinstance(conditions, list):
        raise InvalidInput(_("Conditions must be a list."))
    for i, c in enumerate(conditions, start=1):
        at = f"conditions.{i - 1}"  # the field an error names (the editor shows it there)
        if not isinstance(c, dict) or set(c) - {"field", "op", "value"}:
            raise InvalidInput(_("Condition %(n)d must have a field, an operator and a "
                                 "value.") % {"n": i}, field=at)
        field, op, value = c.get("field"), c.get("op"), c.get("value")
        if op not in OPERATORS:
            raise InvalidInput(_("Condition %(n)d: unknown operator %(op)s (use one of "
                                 "%(ops)s).") % {"n": i, "op": op, "ops": ", ".join(OPERATORS)},
                               field=f"{at}.op")
        if not isinstance(field, str) or not _valid_field(kind, field):
            raise InvalidInput(_("Condition %(n)d: unknown field %(field)s.")
                               % {"n": i, "field": field}, field=f"{at}.field")
        if op != "exists" and value in (None, ""):
            raise InvalidInput(_("Condition %(n)d: give a value to compare with.")
                               % {"n": i}, field=f"{at}.value")
        if not _valid_value(op, value):
            raise InvalidInput(_("Condition %(n)d: the value does not suit the operator "
                                 "%(op)s.") % {"n": i, "op": op}, field=f"{at}.value")
    return conditions


def _valid_field(kind: str, field: str) -> bool:
    if kind != RuleKind.ATTRIBUTE:
        return bool(_FIELD.match(field))
    if field.startswith("custom."):
        return bool(_FIELD.match(field[len("custom."):]))
    if field.startswith("company."):
        return field[len("company."):] in COMPANY_FIELDS
    return field in LEAD_FIELDS


def _valid_value(op: str, value: Any) -> bool:
    if op == "exists":
        return isinstance(value, bool)
    if op in NUMERIC_OPS:
        return _is_number(value)
    if op in TEXT_OPS:
        return isinstance(value, str) and value != ""
    if op == "one_of":
        return (isinstance(value, list) and bool(value)
                and all(_valid_value("equals", v) for v in value))
    return isinstance(value, bool) or _is_number(value) or (isinstance(value, str)
                                                             and value != "")


# --- SQL -----------------------------------------------------------------------------

def event_sql(conditions: list[dict], column: str = "e.properties") -> tuple[str, list]:
    """The conditions as one SQL boolean over a JSON column (an event's properties), and
    its parameters: true exactly when `matches` is."""
    parts, params = ["1=1"], []
    pg = connection.vendor == "postgresql"
    for c in conditions or ():
        sql, p = (_pg if pg else _sqlite)(column, c)
        parts.append(f"COALESCE({sql}, {'false' if pg else '0'})")
        params += p
    return " AND ".join(parts), params


def _pg(col: str, c: Mapping[str, Any]) -> tuple[str, list]:
    key, op = c["field"], c["op"]
    wanted: Any = c.get("value")
    typ = f"jsonb_typeof({col} -> %s)"
    present = (f"({typ} IS NOT NULL AND {typ} <> 'null' AND "
               f"NOT ({typ} = 'string' AND {col} ->> %s = ''))")
    text = (f"(CASE WHEN {typ} = 'string' AND {col} ->> %s <> '' THEN translate({col} ->> %s,"
            f" 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END)")
    number = f"(CASE WHEN {typ} = 'number' THEN ({col} ->> %s)::numeric END)"

    def equals(w: Any) -> tuple[str, list]:
        if isinstance(w, bool):
            return f"({col} -> %s = %s::jsonb)", [key, "true" if w else "false"]
        if _is_number(w):
            return f"({number} = %s::numeric)", [key, key, w]
        return f"({text} = %s)", [key, key, key, fold(w)]

    if op == "exists":
        sql = present if wanted else f"NOT {present}"
        return sql, [key, key, key, key]
    if op == "equals":
        return equals(wanted)
    if op == "one_of":
        pieces = [equals(w) for w in wanted]
        return "(" + " OR ".join(s for s, _ in pieces) + ")", [p for _, ps in pieces for p in ps]
    if op == "contains":
        return f"(strpos({text}, %s) > 0)", [key, key, key, fold(wanted)]
    if op == "starts_with":
        return f"(strpos({text}, %s) = 1)", [key, key, key, fold(wanted)]
    sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({number} {sign} %s::numeric)", [key, key, wanted]


def _sqlite(col: str, c: Mapping[str, Any]) -> tuple[str, list]:
    path, op = '$."' + c["field"] + '"', c["op"]
    wanted: Any = c.get("value")
    typ = f"json_type({col}, %s)"
    present = (f"({typ} IS NOT NULL AND {typ} <> 'null' AND "
               f"NOT ({typ} = 'text' AND json_extract({col}, %s) = ''))")
    text = (f"(CASE WHEN {typ} = 'text' AND json_extract({col}, %s) <> '' "
            f"THEN lower(json_extract({col}, %s)) END)")
    number = f"(CASE WHEN {typ} IN ('integer', 'real') THEN json_extract({col}, %s) END)"

    def equals(w: Any) -> tuple[str, list]:
        if isinstance(w, bool):
            return f"({typ} = %s)", [path, "true" if w else "false"]
        if _is_number(w):
            return f"({number} = %s)", [path, path, w]
        return f"({text} = %s)", [path, path, path, fold(w)]

    if op == "exists":
        sql = present if wanted else f"NOT {present}"
        return sql, [path, path, path, path]
    if op == "equals":
        return equals(wanted)
    if op == "one_of":
        pieces = [equals(w) for w in wanted]
        return "(" + " OR ".join(s for s, _ in pieces) + ")", [p for _, ps in pieces for p in ps]
    if op == "contains":
        return f"(instr({text}, %s) > 0)", [path, path, path, fold(wanted)]
    if op == "starts_with":
        return f"(instr({text}, %s) = 1)", [path, path, path, fold(wanted)]
    sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({number} {sign} %s)", [path, path, wanted]
