"""Column mappings: which column goes where, with value maps and placeholders.

A mapping is JSON (saved as an ImportMapping, or a file for the CLI):

    {"columns": {
        "Prospect ID": "external_id",
        "Lead Source": {"to": "source", "values": {"google": "Google"}},
        "Converted": {"to": "outcome", "values": {"1": "won", "0": "lost"}},
        "Lead Origin": [{"to": "channel", "values": {"API": "api"}},
                        {"to": "custom.lead_origin"}],
        "Lead Number": "ignore"},
     "placeholders": ["Select", "NA"],
     "custom_fields": {"lead_origin": {"label": "Lead origin", "type": "text",
                                       "after_contact": false}}}

Targets: a lead field (LEAD_FIELDS), `custom.<key>`, `stage`, `owner` (username or
email), `outcome` (won/lost), `created_at` (when a lead the import creates was created:
see parse_date), `notes` (a note on the lead's timeline) or `ignore`. `"date_order":
"mdy"` reads an ambiguous 03/04/2024 month first (default "dmy", day first).

Columns a mapping does not name are ignored; without a mapping, columns are guessed from
their header (guess_spec, SYNONYMS). Value maps apply to
the trimmed cell (exact, then case-insensitive); a value that maps to "" is empty. Empty
and placeholder cells change nothing. Custom fields not declared yet are declared (text,
labelled with the column's header) when the import runs.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.core.errors import InvalidInput
from leadflow.imports.dates import parse_date
from leadflow.imports.headers import CREATED_AT, NOTES, SYNONYMS, fold
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.leads.services import PROFILE_FIELDS
from leadflow.leads.stages import OUTCOME_STAGE, STAGE_ALIASES, Stage

LEAD_FIELDS = ("email", "external_id", *PROFILE_FIELDS)
SPECIAL = ("stage", "owner", "outcome", CREATED_AT, NOTES)
IGNORE = "ignore"
DEFAULT_PLACEHOLDERS = ["", "Select", "NA", "N/A", "null", "-"]
BOOLEAN_FIELDS = ("do_not_email", "do_not_call")
TRUE = {"yes", "y", "true", "1", "oui", "o", "x", "vrai"}
FALSE = {"no", "n", "false", "0", "non", "faux"}
AFTER_CONTACT = gettext_lazy("known only after contact")
MAX_NOTE = 5000
# Labels of the targets that are not Lead fields (the mapping screen shows labels).
SPECIAL_LABELS = {"stage": gettext_lazy("Stage"), "owner": gettext_lazy("Owner"),
                  "outcome": gettext_lazy("Outcome (won/lost)"),
                  CREATED_AT: gettext_lazy("Creation date"),
                  NOTES: gettext_lazy("Note (on the timeline)")}


FOLDED = {fold(name): to for to, names in SYNONYMS.items() for name in names} | {
    fold(name): name for name in (*LEAD_FIELDS, *SPECIAL)}


def label_of(target: str) -> str:
    """A target as people read it: the field's label, translated ("custom.x" stays)."""
    if target in SPECIAL_LABELS:
        return str(SPECIAL_LABELS[target])
    if target in LEAD_FIELDS:
        return dict(target_labels())[target]
    return target


def target_labels() -> list[tuple[str, str]]:
    """(target, label) of every lead field, translated, for the mapping screen."""
    return [(name, str(getattr(Lead._meta.get_field(name), "verbose_name", name))
             .capitalize()) for name in LEAD_FIELDS]


@dataclass
class Target:
    to: str
    values: dict[str, Any] = field(default_factory=dict)
    folded: dict[str, Any] = field(default_factory=dict)  # values, case-insensitive


@dataclass
class Mapping:
    columns: dict[str, list[Target]]
    placeholders: set[str]
    custom_fields: dict[str, dict[str, Any]]
    month_first: bool = False

    def targets(self) -> set[str]:
        return {t.to for targets in self.columns.values() for t in targets}


def guess_target(header: str) -> str:
    return FOLDED.get(fold(header), IGNORE)


# Value maps a guessed column starts with.
GUESSED_VALUES = {"outcome": {"1": "won", "0": "lost", "yes": "won", "no": "lost"}}
SHIPPED = Path(__file__).resolve().parent / "mappings"


def guess_spec(header: list[str]) -> dict[str, Any]:
    """A mapping from the header names alone (lead fields and their usual spellings)."""
    columns: dict[str, Any] = {}
    taken: set[str] = set()
    for h in header:
        if h.strip():
            to = guess_target(h)
            if to in taken:  # "Phone" and "Mobile": the first one wins
                to = IGNORE
            taken.add(to)
            columns[h] = {"to": to, "values": GUESSED_VALUES[to]} if to in GUESSED_VALUES \
                else to
    return {"columns": columns}


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped with Leadflow (leadflow/imports/mappings/*.json), by name."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.json"))}


def load_spec_file(path: str | Path) -> dict[str, Any]:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(_("Cannot read %(path)s: %(error)s.")
                           % {"path": path, "error": exc.strerror or exc},
                           field="mapping") from None
    except ValueError as exc:
        raise InvalidInput(_("%(path)s is not valid JSON (%(error)s).")
                           % {"path": path, "error": exc}, field="mapping") from None
    return spec


def parse(spec: Any) -> Mapping:
    """Check a mapping (see the module docstring). Raises InvalidInput naming the fault."""
    if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
        raise InvalidInput(_('A mapping is an object with a "columns" object.'), field="mapping")
    placeholders = spec.get("placeholders", DEFAULT_PLACEHOLDERS)
    if not isinstance(placeholders, list) or not all(isinstance(p, str) for p in placeholders):
        raise InvalidInput(_("placeholders must be a list of texts."), field="placeholders")
    custom_fields = spec.get("custom_fields") or {}
    if not isinstance(custom_fields, dict):
        raise InvalidInput(_("custom_fields must be an object."), field="custom_fields")
    for key, decl in custom_fields.items():
        if not isinstance(decl, dict) or decl.get("type", "text") not in (
                CustomFieldDefinition.Type.values):
            raise InvalidInput(_("custom field %(key)r: type must be one of %(choices)s.")
                               % {"key": key,
                                  "choices": ", ".join(CustomFieldDefinition.Type.values)},
                               field="custom_fields")
    if spec.get("date_order", "dmy") not in ("dmy", "mdy"):
        raise InvalidInput(_('date_order must be "dmy" (day first) or "mdy" (month first).'),
                           field="date_order")
    columns: dict[str, list[Target]] = {}
    for column, raw in spec["columns"].items():
        items = raw if isinstance(raw, list) else [raw]
        targets = [_target(column, item) for item in items]
        targets = [t for t in targets if t.to != IGNORE]
        if targets:
            columns[column] = targets
    mapping = Mapping(columns, {p.strip().lower() for p in placeholders} | {""},
                      dict(custom_fields), spec.get("date_order") == "mdy")
    used = [t.to for ts in columns.values() for t in ts]
    twice = sorted({t for t in used if used.count(t) > 1})
    if twice:
        raise InvalidInput(_("%(column)r is mapped from more than one column.")
                           % {"column": twice[0]},
                           field="mapping")
    for column, targets in columns.items():
        for t in targets:
            if t.to.startswith("custom."):
                mapping.custom_fields.setdefault(t.to[7:], {"label": column[:100]})
    return mapping


def _target(column: str, item: Any) -> Target:
    if isinstance(item, str):
        item = {"to": item}
    if not isinstance(item, dict) or not isinstance(item.get("to"), str):
        raise InvalidInput(_('column %(column)r: expected a target name or {"to": ..., "values": '
                             "{...}}.") % {"column": column}, field="mapping")
    to = item["to"].strip()
    values = item.get("values") or {}
    if not isinstance(values, dict):
        raise InvalidInput(_("column %(column)r: values must be an object.")
                           % {"column": column}, field="mapping")
    if to.startswith("custom."):
        key = to[7:]
        if not key or slugify(key) != key or len(key) > 60:
            raise InvalidInput(_("column %(column)r: %(key)r is not a valid custom field key "
                                 "(lower-case letters, digits, - and _).")
                               % {"column": column, "key": key}, field="mapping")
    elif to not in (*LEAD_FIELDS, *SPECIAL, IGNORE):
        raise InvalidInput(_("column %(column)r: unknown target %(to)r.")
                           % {"column": column, "to": to}, field="mapping")
    return Target(to, {str(k).strip(): v for k, v in values.items()},
                  {str(k).strip().lower(): v for k, v in values.items()})


def custom_key(header: str) -> str:
    return slugify(header).replace("-", "_")[:60] or "column"


def definitions_for(mapping: Mapping, existing: dict[str, CustomFieldDefinition]
                    ) -> dict[str, CustomFieldDefinition]:
    """The definitions the mapping needs: existing ones as they are, the others unsaved
    (as declared in the mapping, "known only after contact" in the label when flagged)."""
    out = dict(existing)
    for key, decl in mapping.custom_fields.items():
        if key not in out:
            label = str(decl.get("label") or key)
            if decl.get("after_contact"):
                label = f"{label} ({AFTER_CONTACT})"
            out[key] = CustomFieldDefinition(key=key, label=label[:100],
                                             type=decl.get("type", "text"),
                                             choices=decl.get("choices") or [])
    return out


@dataclass
class MappedRow:
    data: dict[str, Any]
    stage: str | None = None
    owner: str | None = None
    outcome: str | None = None
    created_at: datetime | None = None
    note: str = ""


class RowProblem(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message, self.field = message, field


def map_row(mapping: Mapping, index: dict[str, int], cells: list[str],
            definitions: dict[str, CustomFieldDefinition]) -> MappedRow:
    """One row's cells -> lead data for bulk_upsert (and stage/owner/outcome).
    Raises RowProblem for a value that cannot be converted."""
    row = MappedRow({})
    custom: dict[str, Any] = {}
    for column, targets in mapping.columns.items():
        pos = index.get(column)
        if pos is None or pos >= len(cells):
            continue
        raw = cells[pos].strip()
        if raw.lower() in mapping.placeholders:
            continue
        for t in targets:
            value: Any = raw
            if t.values:
                value = t.values[raw] if raw in t.values else t.folded.get(raw.lower(), raw)
            if value is None or value == "":
                continue
            to = t.to
            if to in BOOLEAN_FIELDS:
                row.data[to] = _boolean(value, to)
            elif to.startswith("custom."):
                key = to[7:]
                custom[key] = _custom_value(value, definitions.get(key), key)
            elif to == "stage":
                stage = STAGE_ALIASES.get(str(value).lower(), str(value))
                if stage not in Stage.values:
                    raise RowProblem(f"unknown stage {str(value)[:60]!r}", "stage")
                row.stage = stage
            elif to == "outcome":
                if str(value) not in OUTCOME_STAGE:
                    raise RowProblem(f"outcome must be won or lost, not {str(value)[:60]!r}",
                                     "outcome")
                row.outcome = str(value)
            elif to == "owner":
                row.owner = str(value).strip().lower()
            elif to == CREATED_AT:
                row.created_at = _created_at(str(value), mapping.month_first)
            elif to == NOTES:
                if len(str(value)) > MAX_NOTE:
                    raise RowProblem(f"the note is longer than {MAX_NOTE} characters", NOTES)
                row.note = str(value)
            else:
                row.data[to] = str(value)
    if custom:
        row.data["custom"] = custom
    return row


def _created_at(text: str, month_first: bool) -> datetime:
    try:
        return parse_date(text, month_first=month_first)
    except ValueError as exc:
        raise RowProblem(str(exc), CREATED_AT) from None


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowProblem(f"{name} must be yes or no, not {str(value)[:60]!r}", name)


def _custom_value(value: Any, definition: CustomFieldDefinition | None, key: str) -> Any:
    kind = definition.type if definition else "text"
    if kind == CustomFieldDefinition.Type.NUMBER and isinstance(value, str):
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise RowProblem(f"custom field {key!r} must be a number, not {value[:60]!r}",
                             f"custom.{key}")
        return int(number) if number.is_integer() and "." not in value else number
    if kind == CustomFieldDefinition.Type.BOOLEAN:
        return _boolean(value, f"custom.{key}")
    return value if isinstance(value, str) else str(value)


def format_values(values: dict[str, Any]) -> str:
    """A value map as the mapping screen shows it: "from=to; from=to"."""
    return "; ".join(f"{k}={'' if v is None else v}" for k, v in values.items())


def parse_values(text: str, column: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in re.split(r"[;\n]", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidInput(_("column %(column)r: write value maps as from=to; from=to.")
                               % {"column": column},
                               field="values")
        key, _eq, value = part.partition("=")
        values[key.strip()] = value.strip()
    return values


def first_target(spec: dict[str, Any], column: str) -> tuple[str, dict[str, Any]]:
    """The first target of `column` in `spec` and its value map ("ignore" when unmapped)."""
    raw = spec.get("columns", {}).get(column, IGNORE)
    item = (raw[0] if raw else IGNORE) if isinstance(raw, list) else raw
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict):
        return str(item.get("to", IGNORE)), dict(item.get("values") or {})
    return IGNORE, {}


def spec_from_choices(header: list[str], targets: list[str], values: list[str],
                      placeholders: str, base: dict[str, Any]) -> dict[str, Any]:
    """The mapping the mapping screen describes: one target and value map per column;
    "custom.new" makes a new custom field keyed after the header. A column's further
    targets and the custom field declarations of `base` (a saved mapping) are kept."""
    columns: dict[str, Any] = {}
    for column, to, text in zip(header, targets, values, strict=True):
        if not column or to == IGNORE:
            continue
        if to == "custom.new":
            to = f"custom.{custom_key(column)}"
        entry: Any = {"to": to, "values": parse_values(text, column)}
        raw = base.get("columns", {}).get(column)
        if isinstance(raw, list) and len(raw) > 1 and first_target(base, column)[0] == to:
            entry = [entry, *raw[1:]]
        columns[column] = entry
    spec = {"columns": columns,
            "placeholders": [p.strip() for p in placeholders.split(",")],
            "custom_fields": base.get("custom_fields", {})}
    parse(spec)
    return spec
