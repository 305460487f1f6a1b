"""Where does Leadflow still hold a piece of text? The proof that an erasure is complete.

`find_text` looks through the whole database (every table and every column that can hold
text or JSON, found by introspection, so a new table is scanned the day it exists) and
through the data folders (`data_folders()`: uploads, sent-email files, the data dir).
A new store of personal data on disk joins the scan with one line in `data_folders`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

# Columns of these kinds hold numbers, dates or flags, never a name or an email address.
NOT_TEXT = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
            "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
            "PositiveBigIntegerField", "PositiveSmallIntegerField", "BooleanField",
            "NullBooleanField", "DateField", "DateTimeField", "TimeField", "DurationField",
            "FloatField", "DecimalField", "BinaryField", "UUIDField"}
# The database itself is scanned row by row; its files on disk are not text.
SKIPPED_SUFFIXES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal")


def data_folders() -> list[Path]:
    """Every folder where Leadflow writes files that may hold personal data."""
    folders = [Path(settings.DATA_DIR), Path(settings.MEDIA_ROOT)]
    for mailer in getattr(settings, "MAILERS", {}).values():
        if mailer.get("OPTIONS", {}).get("file_path"):  # the file email backend
            folders.append(Path(mailer["OPTIONS"]["file_path"]))
    return folders


def variants(text: str) -> set[str]:
    """The forms a value takes once stored: as is, and escaped inside JSON."""
    text = text.lower()
    return {text, json.dumps(text)[1:-1]}


def find_text(needles: Iterable[str], folders: Iterable[Path] | None = None) -> list[str]:
    """Where any of `needles` (case-insensitive) is found: "table.column" for the
    database, the file path (and zip member) for folders. Empty means nowhere."""
    wanted = set().union(*(variants(n) for n in needles if n))
    found = [f"{table}.{column}" for table, column in _db_hits(wanted)]
    for folder in dict.fromkeys(data_folders() if folders is None else folders):
        found.extend(_file_hits(Path(folder), wanted))
    return list(dict.fromkeys(found))  # nested folders (media is inside the data dir)


def _text_columns(cursor, table: str) -> Iterator[str]:
    for column in connection.introspection.get_table_description(cursor, table):
        try:
            kind = connection.introspection.get_field_type(column.type_code, column)
        except KeyError:
            kind = "TextField"  # an unknown type is scanned rather than trusted
        if kind not in NOT_TEXT:
            yield column.name


def _db_hits(wanted: set[str]) -> Iterator[tuple[str, str]]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in list(_text_columns(cursor, table)):
                text = f"LOWER(CAST({quote(column)} AS TEXT))"
                where = " OR ".join(f"{text} LIKE %s" for _ in wanted)
                cursor.execute(f"SELECT 1 FROM {quote(table)} WHERE {where} LIMIT 1",  # noqa: S608
                               [f"%{w}%" for w in wanted])  # "_" in a needle only widens
                if cursor.fetchone():
                    yield table, column


def _file_hits(folder: Path, wanted: set[str]) -> Iterator[str]:
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name.endswith(SKIPPED_SUFFIXES):
            continue
        for name, data in _contents(path):
            text = data.decode("utf-8", errors="replace").lower()
            if any(w in text for w in wanted):
                yield f"{path}{'!' + name if name else ''}"


def _contents(path: Path) -> Iterator[tuple[str, bytes]]:
    """The file's bytes, or each member's for a zip (xlsx files are zip archives)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield member, archive.read(member)
    else:
        yield "", path.read_bytes()
