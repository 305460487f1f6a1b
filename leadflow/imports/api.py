# No `from __future__ import annotations`: ninja reads the annotations at import time.
from datetime import datetime

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from leadflow.core.errors import InvalidInput
from leadflow.core.responses import CSV_OK, answers
from leadflow.imports import reader, services
from leadflow.imports.models import ImportJob

router = Router(tags=["imports"])


class JobOut(Schema):
    id: int
    file: str
    status: str
    dry_run: bool
    total: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    message: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    errors_url: str

    @staticmethod
    def resolve_file(job: ImportJob) -> str:
        return job.original_name

    @staticmethod
    def resolve_errors_url(job: ImportJob) -> str:
        return f"/api/v1/imports/{job.pk}/errors.csv"


@router.post("", response=answers({200: JobOut, 202: JobOut}, 404, 413, 422),
             summary="Import a CSV or xlsx file (202 and a job to poll for large files)")
def create_import(request, file: File[UploadedFile], mapping_id: Form[int | None] = None,
                  mapping: Form[str | None] = None, dry_run: Form[bool] = False,
                  encoding: Form[str | None] = None):
    """`encoding`: the CSV's text encoding (utf-8, utf-16-le, utf-16-be, cp1252,
    iso-8859-15, latin-1, mac-roman); default: detected (docs/imports.md)."""
    services.check_can_import(request.user)
    if file.size and file.size > reader.MAX_FILE_BYTES:
        raise InvalidInput(_("The file is larger than 100 MB."), field="file")
    spec, saved = services.spec_from(mapping_id=mapping_id, mapping_json=mapping)
    job = services.create_job(request.user, file, name=file.name or "import.csv",
                              spec=spec if (saved or mapping) else None, mapping=saved,
                              encoding=encoding or None)
    job = services.start_job(job, spec=job.spec, dry_run=dry_run)
    return Status(200 if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
                  else 202, job)


@router.get("/{job_id}", response=answers(JobOut, 404, 422),
            summary="An import job and its counts")
def get_import(request, job_id: int):
    return services.get_job(request.user, job_id)


@router.get("/{job_id}/errors.csv", response=answers(None, 404, 422),
            openapi_extra=CSV_OK, summary="The rejected rows of an import, as CSV")
def import_errors(request, job_id: int):
    job = services.get_job(request.user, job_id)
    response = HttpResponse(services.job_error_report(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
