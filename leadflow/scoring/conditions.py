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
from dataclasses import dataclass
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
    dialect = _PG if connection.vendor == "postgresql" else _SQLITE
    for c in conditions or ():
        sql, p = _condition_sql(dialect, column, c)
        parts.append(f"COALESCE({sql}, {dialect.false})")
        params += p
    return " AND ".join(parts), params


@dataclass(frozen=True)
class _Dialect:
    """How one database reads a JSON property: each fragment takes the key (PostgreSQL)
    or the JSON path (SQLite) as its one parameter."""

    typ: str        # the JSON type name of the property, NULL when absent
    raw: str        # the property as text
    string: str     # the JSON type name of a string
    is_number: str  # a condition on `typ` that holds for numbers
    as_number: str  # the property as a number
    lower: str      # ASCII lower-casing of a text expression (`{}`)
    find: str       # position of a needle in a text (`{}` then the needle)
    cast: str       # a numeric parameter
    bool_equals: str  # the property equals the JSON boolean given as a parameter
    false: str


_PG = _Dialect(
    typ="jsonb_typeof({col} -> %s)", raw="{col} ->> %s", string="string",
    is_number="= 'number'", as_number="({col} ->> %s)::numeric",
    lower="translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')",
    find="strpos({}, %s)", cast="%s::numeric", bool_equals="({col} -> %s = %s::jsonb)",
    false="false")
_SQLITE = _Dialect(
    typ="json_type({col}, %s)", raw="json_extract({col}, %s)", string="text",
    is_number="IN ('integer', 'real')", as_number="json_extract({col}, %s)",
    lower="lower({})", find="instr({}, %s)", cast="%s",
    bool_equals="(json_type({col}, %s) = %s)", false="0")


def _condition_sql(d: _Dialect, col: str, c: Mapping[str, Any]) -> tuple[str, list]:
    op = c["op"]
    wanted: Any = c.get("value")
    key = c["field"] if d is _PG else '$."' + c["field"] + '"'
    typ, raw = d.typ.format(col=col), d.raw.format(col=col)
    present = (f"({typ} IS NOT NULL AND {typ} <> 'null' AND "
               f"NOT ({typ} = '{d.string}' AND {raw} = ''))")
    text = (f"(CASE WHEN {typ} = '{d.string}' AND {raw} <> '' "
            f"THEN {d.lower.format(raw)} END)")
    number = f"(CASE WHEN {typ} {d.is_number} THEN {d.as_number.format(col=col)} END)"

    def equals(w: Any) -> tuple[str, list]:
        if isinstance(w, bool):
            return d.bool_equals.format(col=col), [key, "true" if w else "false"]
        if _is_number(w):
            return f"({number} = {d.cast})", [key, key, w]
        return f"({text} = %s)", [key, key, key, fold(w)]

    if op == "exists":
        sql = present if wanted else f"NOT {present}"
        return sql, [key, key, key, key]
    if op == "equals":
        return equals(wanted)
    if op == "one_of":
        pieces = [equals(w) for w in wanted]
        return "(" + " OR ".join(s for s, _ in pieces) + ")", [p for _, ps in pieces for p in ps]
    if op in ("contains", "starts_with"):
        found = d.find.format(text)
        return (f"({found} > 0)" if op == "contains" else f"({found} = 1)",
                [key, key, key, fold(wanted)])
    sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({number} {sign} {d.cast})", [key, key, wanted]
