"""Reading import files: CSV (any delimiter, UTF-8 with or without BOM, Latin-1 fallback)
and Excel xlsx (openpyxl, read-only). Both give a header and (line number, cells) rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from leadflow.core.errors import InvalidInput

MAX_FILE_BYTES = 100 * 1024 * 1024
DELIMITERS = ",;\t|"


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number in the file, cells)


def is_xlsx(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"  # a zip archive: the xlsx container


def open_table(path: str | Path) -> Table:
    """Open a CSV or xlsx file. Raises InvalidInput when it cannot be used at all."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path.name} is larger than "
                               f"{MAX_FILE_BYTES // 1024 // 1024} MB.", field="file")
        xlsx = is_xlsx(path)
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.", field="file") from None
    table = _xlsx(path) if xlsx else _csv(path.read_bytes())
    if not any(h.strip() for h in table.header):
        raise InvalidInput("The file is empty: expected a header line.", field="file")
    return table


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # spreadsheets on Windows still write it


def sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample.split("\n", 20)[0], delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv(raw: bytes) -> Table:
    text = decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("The file is empty: expected a header line.", field="file") from None
    except csv.Error as exc:
        raise InvalidInput(f"line 1: {exc}", field="file") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the rest of the file cannot be read reliably
                raise UnreadableRow(reader.line_num, f"unreadable CSV: {exc}") from None
            yield reader.line_num, cells

    return Table(header, rows())


class UnreadableRow(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    handle = path.open("rb")  # a file, not a name: openpyxl would insist on ".xlsx"
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        handle.close()
        raise InvalidInput(f"{path.name} is not a readable xlsx file ({exc}).",
                           field="file") from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    first = next(it, None)
    header = [_cell(v) for v in first] if first else []

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for line, values in enumerate(it, start=2):
                yield line, [_cell(v) for v in values]
        finally:
            book.close()
            handle.close()

    return Table(header, rows())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
