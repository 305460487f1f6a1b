"""Importing leads from CSV and xlsx files: mapping, preview, dry run, the import itself,
jobs (history, background runs) and the per-row error report.

`import_path(path, mapping)` is the whole import for scripts, the CLI and benchmarks.
Rows are read, mapped and written by chunks (leads.bulk.bulk_upsert), so memory and the
number of queries per row stay bounded whatever the file's size. A bad row is reported
with its line and never blocks the good ones; re-importing the same file changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from leadflow.core import clock, failpoints, workqueue
from leadflow.core.errors import Forbidden, InvalidInput, NotFound, contains_nul
from leadflow.imports import extras
from leadflow.imports.mapping import (
    MappedRow,
    Mapping,
    RowProblem,
    definitions_for,
    guess_spec,
    label_of,
    load_spec_file,
    map_row,
    parse,
)
from leadflow.imports.models import ImportJob, ImportMapping
from leadflow.imports.reader import ENCODINGS, XLSX, Table, UnreadableRow, open_table
from leadflow.imports.reports import error_report_csv
from leadflow.leads.bulk import CHUNK_SIZE, CREATED, ERROR, UNCHANGED, UPDATED, bulk_upsert
from leadflow.leads.models import CustomFieldDefinition, Lead
from leadflow.leads.stages import OUTCOME_STAGE
from leadflow.tracking.models import Event

if TYPE_CHECKING:
    from leadflow.accounts.models import User

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
# Files up to this size are imported during the request; larger ones by the worker.
INLINE_MAX_BYTES = 2 * 1024 * 1024
# A running job's lease, renewed after each chunk of rows; a job whose worker died is run
# again once it runs out.
LEASE = timedelta(minutes=5)


@dataclass
class RowError:
    line: int
    message: str
    field: str | None = None
    cells: list[str] = dataclasses.field(default_factory=list)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class PreviewRow:
    line: int
    values: dict[str, Any]
    status: str
    message: str = ""
    field: str | None = None

    @property
    def labelled(self) -> list[tuple[str, Any]]:
        """The values under their fields' labels, for the preview."""
        return [(label_of(k), v) for k, v in self.values.items()]


@dataclass
class ImportReport:
    dry_run: bool = False
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    header: list[str] = dataclasses.field(default_factory=list)
    ignored_columns: list[str] = dataclasses.field(default_factory=list)
    preview: list[PreviewRow] = dataclasses.field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def summary(self) -> str:
        return (f"{'dry run: ' if self.dry_run else ''}rows {self.total}, created "
                f"{self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}")


def import_path(path: str | Path, mapping: dict[str, Any] | str | Path | None = None, *,
                dry_run: bool = False, actor: User | None = None,
                heartbeat: Callable[[], None] | None = None,
                encoding: str | None = None) -> ImportReport:
    """Import a CSV or xlsx file. `mapping` is a mapping (dict), the path of a JSON mapping
    file, or None to guess the columns from their header; `encoding` a codec of
    reader.ENCODINGS (default: detected). Raises InvalidInput when the file or the mapping
    cannot be used at all; rejected rows are in the report."""
    table = open_table(path, encoding)
    if mapping is None:
        spec = guess_spec(table.header)
    elif isinstance(mapping, str | Path):
        spec = load_spec_file(mapping)
    else:
        spec = mapping
    return import_table(table, spec, dry_run=dry_run, actor=actor, heartbeat=heartbeat)


def import_table(table: Table, spec: dict[str, Any], *, dry_run: bool = False,
                 actor: User | None = None, limit: int | None = None,
                 heartbeat: Callable[[], None] | None = None) -> ImportReport:
    """Map and import `table`'s rows (the first `limit` only, for a preview, which implies
    a dry run and keeps the mapped rows in the report). `heartbeat` is called after each
    chunk (a background job renews its lease there)."""
    mapping = parse(spec)
    header = [h.strip() for h in table.header]
    index = _column_index(header, mapping)
    report = ImportReport(dry_run=dry_run or limit is not None, header=header,
                          ignored_columns=[h for h in header if h and h not in mapping.columns])
    existing = {d.key: d for d in CustomFieldDefinition.objects.all()}
    definitions = definitions_for(mapping, existing)
    if not report.dry_run:
        _declare(definitions, existing)
    users = _users() if "owner" in mapping.targets() else {}
    batch: list[tuple[int, list[str], MappedRow]] = []
    try:
        for line, cells in table.rows:
            if not any(c.strip() for c in cells):
                continue
            report.total += 1
            try:
                batch.append((line, cells, _map(mapping, index, cells, header, definitions,
                                                users)))
            except RowProblem as exc:
                _reject(report, RowError(line, exc.message, exc.field, cells),
                        preview=limit is not None)
            if len(batch) >= CHUNK_SIZE:
                _import_batch(batch, report, actor=actor, definitions=definitions,
                              users=users, preview=limit is not None)
                batch = []
                if heartbeat is not None:
                    heartbeat()
            if limit is not None and report.total >= limit:
                break
    except UnreadableRow as exc:
        _reject(report, RowError(exc.line, exc.message), preview=limit is not None)
    if batch:
        _import_batch(batch, report, actor=actor, definitions=definitions, users=users,
                      preview=limit is not None)
    report.errors.sort(key=lambda e: e.line)
    report.preview.sort(key=lambda r: r.line)
    return report


def _reject(report: ImportReport, error: RowError, *, preview: bool) -> None:
    """A rejected row: in the errors, and once in the preview (which lists every row)."""
    report.errors.append(error)
    if preview:
        report.preview.append(PreviewRow(error.line, {}, ERROR, error.message, error.field))


def _column_index(header: list[str], mapping: Mapping) -> dict[str, int]:
    twice = sorted({h for h in header if h and header.count(h) > 1 and h in mapping.columns})
    if twice:
        raise InvalidInput(_("line 1: column %(column)r appears twice.")
                           % {"column": twice[0]}, field="file")
    index = {h: i for i, h in enumerate(header) if h in mapping.columns}
    present = {t.to for column in index for t in mapping.columns[column]}
    if "email" not in present and "external_id" not in present:
        raise InvalidInput(_("Map a column to email or to external_id: leads are matched by "
                             "them (columns found: %(columns)s).")
                           % {"columns": ", ".join(h for h in header if h)}, field="mapping")
    return index


def _map(mapping: Mapping, index: dict[str, int], cells: list[str], header: list[str],
         definitions: dict[str, CustomFieldDefinition], users: dict[str, User]) -> MappedRow:
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        raise RowProblem(f"{len(cells)} cells for {len(header)} columns", "file")
    row = map_row(mapping, index, cells, definitions)
    if row.owner is not None and row.owner not in users:
        raise RowProblem(f"no active user {row.owner!r} (give a username or an email)",
                         "owner")
    return row


def _users() -> dict[str, User]:
    from leadflow.accounts.models import User

    users: dict[str, User] = {}
    for user in User.objects.filter(is_active=True):
        users[user.username.lower()] = user
        if user.email:
            users.setdefault(user.email.lower(), user)
    return users


def _declare(definitions: dict[str, CustomFieldDefinition],
             existing: dict[str, CustomFieldDefinition]) -> None:
    new = [d for key, d in definitions.items() if key not in existing]
    if new:
        CustomFieldDefinition.objects.bulk_create(new, ignore_conflicts=True)


def _import_batch(batch: list[tuple[int, list[str], MappedRow]], report: ImportReport, *,
                  actor: User | None, definitions: dict[str, CustomFieldDefinition],
                  users: dict[str, User], preview: bool) -> None:
    dry_run = report.dry_run
    results = bulk_upsert([row.data for _, _, row in batch], via=Event.Via.IMPORT,
                          actor=actor, route=False, dry_run=dry_run, definitions=definitions)
    known_notes = extras.known_notes(results, [row for _, _, row in batch])
    notes: list[tuple[Lead, str]] = []
    dated: list[tuple[Lead, datetime]] = []
    owners: list[tuple[Lead, User]] = []
    stages: dict[str, list[Lead]] = defaultdict(list)
    outcomes: dict[str, list[Lead]] = defaultdict(list)
    created: list[Lead] = []
    for (line, cells, row), result in zip(batch, results, strict=True):
        extra = False
        status = result.status
        if status == ERROR or result.lead is None:
            _reject(report, RowError(line, result.message, result.field, cells),
                    preview=preview)
            continue
        lead = result.lead
        if status == CREATED:
            created.append(lead)
            if row.created_at is not None:
                dated.append((lead, row.created_at))
        if row.note and (lead.pk, row.note) not in known_notes:
            notes.append((lead, row.note))
            known_notes.add((lead.pk, row.note))
            extra = True
        owner = users.get(row.owner) if row.owner else None
        if owner is not None and lead.owner_id != owner.pk:
            owners.append((lead, owner))
            extra = True
        if row.stage and lead.stage != row.stage:
            stages[row.stage].append(lead)
            extra = True
        if row.outcome and lead.stage != OUTCOME_STAGE[row.outcome]:
            outcomes[row.outcome].append(lead)
            extra = True
        if status == UNCHANGED and extra:
            status = UPDATED
        setattr(report, status, getattr(report, status) + 1)
        if preview:
            report.preview.append(PreviewRow(line, _shown(row), status))
    if dry_run:
        return
    extras.set_created_at(dated)
    _apply_extras(owners, stages, outcomes, created, actor=actor)
    extras.record_notes(notes, actor=actor)


def _apply_extras(owners: list[tuple[Lead, User]], stages: dict[str, list[Lead]],
                  outcomes: dict[str, list[Lead]], created: list[Lead], *,
                  actor: User | None) -> None:
    from leadflow.lifecycle.services import change_stages, mark_outcomes
    from leadflow.routing.services import assign_leads, route_leads

    with transaction.atomic():
        # Only the leads whose owner changes, so a re-import assigns none.
        assign_leads(owners, actor=actor, reason="import")
        for stage, leads in stages.items():
            change_stages(_unique(leads), stage, reason="import", actor=actor)
        for outcome, leads in outcomes.items():
            mark_outcomes(_unique(leads), outcome, reason="import", actor=actor)
        route_leads(created)


def _unique(leads: Iterable[Lead]) -> list[Lead]:
    return list({id(lead): lead for lead in leads}.values())


def _shown(row: MappedRow) -> dict[str, Any]:
    values = {k: v for k, v in row.data.items() if k != "custom"}
    values.update({f"custom.{k}": v for k, v in row.data.get("custom", {}).items()})
    for name in ("stage", "owner", "outcome"):
        if getattr(row, name):
            values[name] = getattr(row, name)
    if row.created_at is not None:
        values["created_at"] = row.created_at.isoformat(" ", "minutes")
    if row.note:
        values["notes"] = row.note
    return values


# --- Mappings, jobs ---------------------------------------------------------------------

def check_can_import(user: User) -> None:
    """Imports bring in leads for everyone: admins and marketing only."""
    from leadflow.accounts.permissions import may_import

    if not may_import(user):
        raise Forbidden(_("Only administrators and marketing may import leads."))


@transaction.atomic
def save_mapping(name: str, spec: dict[str, Any], *, user: User | None) -> ImportMapping:
    """Create or replace the mapping called `name`. Raises InvalidInput."""
    name = name.strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise InvalidInput(_("A mapping needs a name of at most 100 characters."), field="name")
    parse(spec)
    mapping, _created = ImportMapping.objects.update_or_create(
        name=name, defaults={"spec": spec, "created_by": user, "updated_at": clock.now()})
    return mapping


def spec_from(*, mapping_id: int | None = None, mapping_json: str | None = None,
              header: list[str] | None = None) -> tuple[dict[str, Any], ImportMapping | None]:
    """The mapping to use: a saved one by id, a JSON text, else guessed from the header."""
    if mapping_id is not None:
        saved = ImportMapping.objects.filter(pk=mapping_id).first()
        if saved is None:
            raise NotFound(_("No saved mapping #%(id)s.") % {"id": mapping_id}, field="mapping_id")
        return saved.spec, saved
    if mapping_json:
        try:
            spec = json.loads(mapping_json)
        except ValueError as exc:
            raise InvalidInput(_("mapping is not valid JSON (%(error)s).")
                               % {"error": exc}, field="mapping") from None
        if contains_nul(spec):
            raise InvalidInput(_("mapping contains a NUL character."), field="mapping")
        parse(spec)
        return spec, None
    return guess_spec(header or []), None


def create_job(user: User, upload: File, *, name: str, spec: dict[str, Any] | None = None,
               mapping: ImportMapping | None = None, dry_run: bool = False,
               encoding: str | None = None) -> ImportJob:
    """Store an uploaded file as a new job (not run yet), read with `encoding` (default:
    detected). Its mapping defaults to one guessed from the header. Raises Forbidden,
    InvalidInput (a file that is not text in that encoding, not a table, or has no
    rows)."""
    check_can_import(user)
    job = ImportJob(original_name=name[:255], created_by=user, created_at=clock.now(),
                    mapping=mapping, dry_run=dry_run, spec=spec or {})
    job.file.save(Path(name).name[-100:] or "import.csv", upload, save=False)
    try:
        table = open_table(job.file.path, encoding)
        job.encoding = table.encoding
        if contains_nul(table.header):  # PostgreSQL stores no NUL, even in JSON
            raise InvalidInput(_("The header row holds a NUL character: is this a CSV or "
                               "xlsx file?"), field="file")
    except InvalidInput:
        job.file.delete(save=False)
        raise
    job.header = [h.strip() for h in table.header]
    if not job.spec:
        job.spec = guess_spec(job.header)
    job.save()
    return job


def get_job(user: User, job_id: int) -> ImportJob:
    check_can_import(user)
    job = ImportJob.objects.filter(pk=job_id).first() if 0 < job_id < 2**63 else None
    if job is None:
        raise NotFound(_("No import #%(id)s.") % {"id": job_id})
    return job


def set_encoding(job: ImportJob, encoding: str) -> ImportJob:
    """Read the job's file with another encoding from now on. Raises InvalidInput when
    its bytes are not text in that encoding (the job keeps the one it had)."""
    if job.encoding == XLSX:
        raise InvalidInput(_("An Excel file has no text encoding to choose."), field="encoding")
    table = open_table(job.file.path, encoding)
    job.encoding = table.encoding
    job.header = [h.strip() for h in table.header]
    job.save(update_fields=["encoding", "header"])
    return job


def read_again(job: ImportJob, encoding: str, *, guess: bool) -> ImportReport | None:
    """Read the job's file with another encoding (set_encoding); with `guess`, its
    mapping is guessed again from the header. Returns the preview, or None while the
    mapping is not usable yet (the person maps the columns first)."""
    set_encoding(job, encoding)
    if guess:
        job.spec = guess_spec(job.header)
        job.save(update_fields=["spec"])
    try:
        return preview(job, job.spec)
    except InvalidInput:
        return None


def _table(job: ImportJob) -> Table:
    return open_table(job.file.path, job.encoding if job.encoding in ENCODINGS else None)


def columns(job: ImportJob, samples: int = 3) -> list[tuple[str, list[str]]]:
    """Each column with a few non-empty sample values, for the mapping screen."""
    table = _table(job)
    found: list[list[str]] = [[] for _ in table.header]
    for n, (_line, cells) in enumerate(table.rows):
        for i, cell in enumerate(cells[:len(found)]):
            if cell.strip() and len(found[i]) < samples and cell.strip() not in found[i]:
                found[i].append(cell.strip()[:60])
        if n > 200 or all(len(f) >= samples for f in found):
            break
    return [(h.strip(), f) for h, f in zip(table.header, found, strict=True) if h.strip()]


def preview(job: ImportJob, spec: dict[str, Any]) -> ImportReport:
    """The first rows mapped, each with what would happen to it. Writes nothing."""
    return import_table(_table(job), spec, limit=PREVIEW_ROWS)


def start_job(job: ImportJob, *, spec: dict[str, Any], dry_run: bool) -> ImportJob:
    """Run the job now when its file is small, else queue it for the worker."""
    job.spec, job.dry_run = spec, dry_run
    parse(spec)
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.DONE,
                          ImportJob.Status.FAILED):
        raise InvalidInput(_("This import is already queued or running."), field="status")
    job.status, job.due_at, job.attempts = ImportJob.Status.QUEUED, clock.now(), 0
    job.save(update_fields=["spec", "dry_run", "status", "due_at", "attempts"])
    if job.file.size <= INLINE_MAX_BYTES:
        run_job(job.pk)
    else:
        from leadflow.imports.tasks import run_import_task

        transaction.on_commit(lambda: run_import_task.enqueue(job.pk))
    job.refresh_from_db()
    return job


class _LeaseLost(Exception):
    """Another worker took the job over (this one was presumed dead): stop quietly."""


def run_job(job_id: int, *, worker: str = "") -> str:
    """Run a queued job (or a running one whose worker died). Safe to run twice and on a
    deleted job: only the worker that claims it does the work."""
    claim = workqueue.claim(ImportJob.objects.filter(
        pk=job_id, status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)),
        limit=1, lease=LEASE, worker=worker, exhausted=_gave_up,
        status=ImportJob.Status.RUNNING, started_at=clock.now())
    return _run_claimed(claim) if claim else "skipped"


def run_due_jobs(*, worker: str = "") -> int:
    """Periodic job: run queued jobs whose wake-up was lost and jobs whose worker died."""
    done = 0
    while claim := workqueue.claim(ImportJob.objects.filter(
            status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)),
            limit=1, lease=LEASE, worker=worker, exhausted=_gave_up,
            status=ImportJob.Status.RUNNING, started_at=clock.now()):
        _run_claimed(claim)
        done += 1
    return done


def _gave_up(claim: workqueue.Claim) -> None:
    """Jobs whose worker died during their last attempt fail instead of running again."""
    for pk in claim.ids:
        _attempt_failed(claim, pk, "the worker stopped during the last attempt")


def _attempt_failed(claim: workqueue.Claim, pk: int, error: str) -> bool | None:
    return workqueue.retry(claim, pk, error,
                           final={"status": ImportJob.Status.FAILED, "finished_at": clock.now()},
                           again={"status": ImportJob.Status.QUEUED})


def _run_claimed(claim: workqueue.Claim) -> str:
    job = ImportJob.objects.select_related("created_by").get(pk=claim.ids[0])

    def heartbeat() -> None:
        failpoints.hit("import.after_chunk")
        if not workqueue.keep_alive(claim):
            raise _LeaseLost

    try:
        report = import_table(_table(job), job.spec, dry_run=job.dry_run,
                              actor=job.created_by, heartbeat=heartbeat)
    except _LeaseLost:
        return "lost"
    except InvalidInput as exc:  # the file or mapping cannot be used: no retry helps
        workqueue.done(claim, job.pk, status=ImportJob.Status.FAILED, message=exc.message,
                       finished_at=clock.now())
        return "failed"
    except Exception as exc:
        log.exception("import job %s failed (attempt %s)", job.pk, claim.attempts.get(job.pk))
        final = _attempt_failed(claim, job.pk, f"{type(exc).__name__}: {exc}")
        if final is None:
            return "lost"
        return "failed" if final else "retrying"
    workqueue.done(
        claim, job.pk, status=ImportJob.Status.DONE, total=report.total,
        created=report.created, updated=report.updated, unchanged=report.unchanged,
        rejected=report.rejected, header=report.header, message=report.summary,
        finished_at=clock.now(),
        errors=[{"line": e.line, "field": e.field, "message": e.message, "cells": e.cells}
                for e in report.errors])
    return "done"


def job_error_report(job: ImportJob) -> str:
    return error_report_csv(job.header, job.errors)


def recent_jobs(user: User, limit: int = 50) -> list[ImportJob]:
    check_can_import(user)
    return list(ImportJob.objects.select_related("created_by", "mapping")
                .filter(~Q(status=ImportJob.Status.UPLOADED) | Q(created_by=user))[:limit])
