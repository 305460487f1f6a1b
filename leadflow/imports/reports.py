"""The error report of an import: the rejected rows as CSV (line, field, message, then the
row's original cells), written where the person can find it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from leadflow.core import clock
from leadflow.core.csvsafe import safe_row
from leadflow.core.errors import InvalidInput

if TYPE_CHECKING:
    from leadflow.imports.services import ImportReport, RowError


def error_report_csv(header: list[str], errors: Iterable[RowError | dict[str, Any]]) -> str:
    """The rejected rows as CSV: line, field, message, then the row's original cells."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(["line", "field", "message", *header]))
    for e in errors:
        d = e if isinstance(e, dict) else e.__dict__
        # Cells are the file's text: "-5" is prefixed too, which is safe for a report.
        writer.writerow(safe_row([str(d["line"]), d.get("field") or "", d["message"],
                                  *d.get("cells", [])]))
    return out.getvalue()


def write_error_report(report: ImportReport, path: Path) -> Path:
    path.write_text(error_report_csv(report.header, report.errors), encoding="utf-8")
    return path


def save_error_report(report: ImportReport, source: Path, target: Path | None = None
                      ) -> Path:
    """Write the error report to `target`, else next to the imported file, else (its
    folder is read-only) under the data directory's imports/ folder. Returns its path.
    Raises InvalidInput when no place can be written."""
    from django.conf import settings

    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    places = [target] if target else [
        source.resolve().parent / f"{source.stem}.errors.csv",
        Path(settings.DATA_DIR) / "imports" / f"{source.stem}-{stamp}.errors.csv"]
    problem = ""
    for path in places:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return write_error_report(report, path)
        except OSError as exc:
            problem = _("Cannot write the error report to %(path)s: %(error)s.") % {
                "path": path, "error": exc.strerror or exc}
    raise InvalidInput(problem, field="errors")
