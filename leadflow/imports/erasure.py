"""The erasure side of imports: an uploaded file and a job's error report hold other
people's rows beside the erased person's. The file is rewritten without the person's rows
(as UTF-8 CSV, whatever it was: the reader tells CSV from xlsx by content), so that a job
not yet run cannot bring them back and the others' rows stay for the record; the job keeps
its counts (a damaged file that names the person is deleted). A rejected row naming the
person leaves the error report. A row is the person's when one of its cells is their email
or external id."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from leadflow.core.errors import InvalidInput
from leadflow.imports.models import ImportJob
from leadflow.imports.reader import UnreadableRow, open_table
from leadflow.leads.stores import replace_file

if TYPE_CHECKING:
    from leadflow.leads.privacy import Person


def forget_in_imports(people: list[Person]) -> None:
    keys = set().union(*(p.keys for p in people))
    if not keys:
        return
    for job in ImportJob.objects.exclude(file="").only("id", "file", "errors", "message"):
        _forget_in_file(Path(job.file.path), keys)
        errors = [e for e in job.errors if not _names(e.get("cells", []), keys)]
        if len(errors) != len(job.errors):
            ImportJob.objects.filter(pk=job.pk).update(errors=errors)
        # The message may be a failure's text, which can quote a cell.
        if any(key in job.message.lower() for key in keys):
            ImportJob.objects.filter(pk=job.pk).update(message="")


def _names(cells: list[str], keys: set[str]) -> bool:
    return any(str(cell).strip().lower() in keys for cell in cells)


def _forget_in_file(path: Path, keys: set[str]) -> None:
    if not path.is_file():
        return
    try:
        table = open_table(path)
        rows = [cells for _, cells in table.rows]
    except (InvalidInput, UnreadableRow):
        # Rows before a damaged line may have been imported; such a file cannot be
        # rewritten faithfully, so it goes if it names the person anywhere.
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        if any(key in text for key in keys):
            path.unlink()
        return
    kept = [cells for cells in rows if not _names(cells, keys)]
    if len(kept) == len(rows):
        return
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows(kept)
    replace_file(path, out.getvalue().encode("utf-8"))
