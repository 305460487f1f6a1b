"""CSV import of leads: one row, one upsert through the lead service.

The header names lead fields (`email`, `external_id`, `first_name`, ...; case, spaces and
dashes do not matter). Each row is created or updated on its own, so a bad row is reported
with its line number and skipped, and never stops the good ones. Empty cells change
nothing on an existing lead.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leadflow.core.errors import InvalidInput, LeadflowError
from leadflow.leads.models import Channel
from leadflow.tracking.models import Event

if TYPE_CHECKING:
    from leadflow.accounts.models import User

COLUMNS = ("email", "external_id", "first_name", "last_name", "phone", "title",
           "company_name", "country", "city", "language", "source", "medium", "campaign",
           "channel")
# A few spellings people and spreadsheets use for the same columns.
ALIASES = {"e-mail": "email", "mail": "email", "company": "company_name", "id": "external_id",
           "firstname": "first_name", "lastname": "last_name", "job_title": "title",
           "utm_source": "source", "utm_medium": "medium", "utm_campaign": "campaign"}
MAX_FILE_BYTES = 100 * 1024 * 1024


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, errors {len(self.errors)}"


def _column(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    key = ALIASES.get(key, key).replace("-", "_")
    return ALIASES.get(key, key)


def _delimiter(text: str) -> str:
    """The separator the header line uses most: "," or ";" (French Excel) or a tab."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def import_csv_text(text: str, *, actor: User | None = None) -> ImportReport:
    """Import leads from CSV text (see the module docstring). Raises InvalidInput when the
    file itself cannot be used (no header, no email or external_id column)."""
    from leadflow.leads.services import find_lead, normalize_email, upsert_lead

    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("The file is empty: expected a header line.") from None
    except csv.Error as exc:
        raise InvalidInput(f"line 1: {exc}") from None
    columns = [_column(h) for h in header]
    report = ImportReport(ignored_columns=[h for h, c in zip(header, columns, strict=True)
                                           if c not in COLUMNS and h.strip()])
    duplicates = {c for c in columns if c in COLUMNS and columns.count(c) > 1}
    if duplicates:
        raise InvalidInput(f"line 1: column {sorted(duplicates)[0]!r} appears twice.")
    if "email" not in columns and "external_id" not in columns:
        raise InvalidInput("line 1: the header needs an email or an external_id column "
                           f"(known columns: {', '.join(COLUMNS)}).")

    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the rest of the file cannot be read reliably
            report.errors.append(RowError(reader.line_num, f"unreadable CSV: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(columns):
            report.errors.append(RowError(line, f"{len(cells)} cells for {len(columns)} "
                                                "columns"))
            continue
        data = {c: v.strip() for c, v in zip(columns, cells, strict=False)
                if c in COLUMNS and v.strip()}
        if not data.get("email") and not data.get("external_id"):
            report.errors.append(RowError(line, "needs an email or an external_id"))
            continue
        try:
            if "channel" not in data and find_lead(email=normalize_email(data.get("email")),
                                                   external_id=data.get("external_id")) is None:
                data["channel"] = Channel.IMPORT
            _, created = upsert_lead(data, via=Event.Via.IMPORT, actor=actor)
        except LeadflowError as exc:
            report.errors.append(RowError(line, exc.message))
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report


def import_csv(path: str | Path, *, actor: User | None = None) -> ImportReport:
    """Import leads from a CSV file (UTF-8, with or without BOM; Latin-1 accepted)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB.")
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # spreadsheets on Windows still write it
    return import_csv_text(text, actor=actor)
