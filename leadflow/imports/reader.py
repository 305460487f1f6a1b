"""Reading import files: CSV (any delimiter, any of the usual encodings) and Excel xlsx
(openpyxl, read-only). Both give a header and (line number, cells) rows.

Encodings (docs/imports.md): a byte order mark decides (UTF-8, UTF-16 LE/BE); else strict
UTF-8; else Windows-1252 (a superset of Latin-1's letters that keeps œ, € and curly
quotes). Bytes that fit none of them, and files that are not text at all (an image, a PDF,
a zip that is not xlsx), are refused with a message saying so, before any mapping.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leadflow.core.errors import InvalidInput

MAX_FILE_BYTES = 100 * 1024 * 1024
DELIMITERS = ",;\t|"
# The encodings a person may choose (codec name -> label); detection picks among them.
ENCODINGS = {"utf-8": "UTF-8", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
             "cp1252": "Windows-1252", "iso-8859-15": "ISO 8859-15 (Latin-9)",
             "latin-1": "ISO 8859-1 (Latin-1)", "mac-roman": "Mac Roman"}
XLSX = "xlsx"  # Table.encoding of an Excel file
# Known non-text formats by their first bytes, named in the refusal.
SIGNATURES = [(b"\x89PNG", gettext_noop("a PNG image")),
              (b"\xff\xd8\xff", gettext_noop("a JPEG image")),
              (b"GIF8", gettext_noop("a GIF image")), (b"%PDF", gettext_noop("a PDF document")),
              (b"\xd0\xcf\x11\xe0", gettext_noop("an old Excel (.xls) or Office file")),
              (b"\x1f\x8b", gettext_noop("a gzip archive")),
              (b"7z\xbc\xaf", gettext_noop("a 7-Zip archive")),
              (b"Rar!", gettext_noop("a RAR archive")), (b"\x7fELF", gettext_noop("a program"))]


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number in the file, cells)
    encoding: str = XLSX  # the codec a CSV was decoded with


def is_xlsx(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"  # a zip archive: the xlsx container


def not_a_table(what: str) -> InvalidInput:
    return InvalidInput(_("This file is not a CSV or Excel file: it looks like %(what)s.")
                        % {"what": _(what)}, field="file")


def open_table(path: str | Path, encoding: str | None = None) -> Table:
    """Open a CSV or xlsx file, decoding a CSV with `encoding` (a codec of ENCODINGS)
    or the one detected. Raises InvalidInput when it cannot be used at all, including a
    header without rows ("no rows to import")."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(_("%(name)s is larger than %(size)s MB.")
                               % {"name": path.name, "size": MAX_FILE_BYTES // 1024 // 1024},
                               field="file")
        xlsx = is_xlsx(path)
        table = _xlsx(path) if xlsx else _csv(path.read_bytes(), encoding)
    except OSError as exc:
        raise InvalidInput(_("Cannot read %(path)s: %(error)s.")
                           % {"path": path, "error": exc.strerror or exc}, field="file") from None
    if not any(h.strip() for h in table.header):
        raise InvalidInput(_("The file is empty: expected a header line."), field="file")
    table.rows = _with_a_row(table.rows)
    return table


def _with_a_row(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """`rows`, once a non-blank one is seen: a header alone is refused at once."""
    skipped: list[tuple[int, list[str]]] = []
    try:
        for line, cells in rows:
            skipped.append((line, cells))
            if any(c.strip() for c in cells):
                return itertools.chain(skipped, rows)
    except UnreadableRow as exc:
        return itertools.chain(skipped, _raising(exc))
    raise InvalidInput(_("The file has a header but no rows to import."), field="file")


def _raising(exc: Exception) -> Iterator[tuple[int, list[str]]]:
    raise exc
    yield  # a generator: raises when read, like the reader it stands for


def detect_encoding(raw: bytes) -> str:
    """The codec of a CSV's bytes (see the module docstring). Raises InvalidInput."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if raw.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    if b"\x00" in raw[:65536]:
        return _utf16_without_bom(raw)
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        raise _undecodable(None) from None


def _utf16_without_bom(raw: bytes) -> str:
    """Text in UTF-16 has a NUL in every other byte of its (mostly ASCII) header."""
    sample = raw[:4096]
    even, odd = sample[0::2], sample[1::2]
    if odd and odd.count(0) > len(odd) * 0.9 and not even.count(0):
        return "utf-16-le"
    if even and even.count(0) > len(even) * 0.9 and not odd.count(0):
        return "utf-16-be"
    raise not_a_table(gettext_noop("binary data (it contains NUL bytes)"))


def _undecodable(encoding: str | None) -> InvalidInput:
    if encoding:
        return InvalidInput(_("The file cannot be read as %(encoding)s: some bytes are not "
                              "text in that encoding. Choose another encoding.")
                            % {"encoding": ENCODINGS.get(encoding, encoding)}, field="encoding")
    return InvalidInput(_("The file's bytes fit no known text encoding (UTF-8, UTF-16, "
                          "Windows-1252): is it a CSV file? Save it again as CSV UTF-8."),
                        field="encoding")


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of a CSV's bytes and the codec used: `encoding`, else the detected one."""
    for signature, what in SIGNATURES:
        if raw.startswith(signature):
            raise not_a_table(what)
    if encoding is not None and encoding not in ENCODINGS:
        raise InvalidInput(_("Unknown encoding %(encoding)s: choose one of %(choices)s.")
                           % {"encoding": encoding[:40], "choices": ", ".join(ENCODINGS)},
                           field="encoding")
    codec = encoding or detect_encoding(raw)
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        raise _undecodable(encoding) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text[:65536] or _control_share(text[:65536]) > 0.01:
        raise not_a_table(gettext_noop("binary data"))
    return text, codec


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for c in text if c < " " and c not in "\t\n\r\f\v")
    return controls / len(text)


def sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    try:
        return csv.Sniffer().sniff(sample.split("\n", 20)[0], delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv(raw: bytes, encoding: str | None) -> Table:
    text, codec = decode(raw, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(_("The file is empty: expected a header line."),
                           field="file") from None
    except csv.Error as exc:
        raise InvalidInput(_("line 1: %(error)s") % {"error": exc}, field="file") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the rest of the file cannot be read reliably
                raise UnreadableRow(reader.line_num, f"unreadable CSV: {exc}") from None
            yield reader.line_num, cells

    return Table(header, rows(), codec)


class UnreadableRow(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise not_a_table(gettext_noop("a damaged zip archive")) from None
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise not_a_table(gettext_noop("an OpenDocument file (save it as xlsx or CSV)"))
        if "word/document.xml" in names:
            raise not_a_table(gettext_noop("a Word document"))
        raise not_a_table(gettext_noop("a zip archive that is not an Excel workbook"))
    handle = path.open("rb")  # a file, not a name: openpyxl would insist on ".xlsx"
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        handle.close()
        raise InvalidInput(_("%(name)s is not a readable xlsx file (%(error)s).")
                           % {"name": path.name, "error": exc},
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
