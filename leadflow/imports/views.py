"""The import pages: upload -> mapping (with preview) -> run -> result with error report.

Admins and marketing only (services.check_can_import); others get a 403 page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from leadflow.core.errors import InvalidInput, LeadflowError
from leadflow.core.http import AuthedRequest, render_error
from leadflow.core.params import parse_id
from leadflow.imports import mapping as mappings
from leadflow.imports import services
from leadflow.imports.models import ImportJob, ImportMapping
from leadflow.imports.reader import ENCODINGS
from leadflow.leads.models import CustomFieldDefinition


@login_required
@require_http_methods(["GET", "POST"])
def index(request: AuthedRequest) -> HttpResponse:
    try:
        jobs = services.recent_jobs(request.user)
        if request.method == "POST":
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput(_("Choose a CSV or xlsx file."), field="file")
            job = services.create_job(request.user, upload, name=upload.name or "import.csv")
            return redirect("imports:map", job_id=job.pk)
    except LeadflowError as exc:
        if exc.status == 403:
            return render_error(request, exc)
        return render(request, "imports/index.html", {"jobs": jobs, "error": exc.message},
                      status=exc.status)
    return render(request, "imports/index.html", {"jobs": jobs})


@login_required
@require_http_methods(["GET", "POST"])
def map_columns(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = services.get_job(request.user, job_id)
    spec = job.spec
    saved, chosen = None, request.GET.get("mapping", "")
    if chosen.isascii() and chosen.isdecimal():
        saved = ImportMapping.objects.filter(pk=parse_id(chosen, "mapping")).first()
        spec = saved.spec if saved else spec
        job.spec = spec
        job.save(update_fields=["spec"])
    elif chosen in mappings.shipped_mappings():
        spec = job.spec = mappings.load_spec_file(mappings.shipped_mappings()[chosen])
        job.save(update_fields=["spec"])
    # The chosen mapping becomes the job's: its columns' further targets and its custom
    # field declarations carry over when the screen is posted.
    context: dict[str, Any] = {"job": job, "saved": saved, "chosen": chosen}
    encoding = request.GET.get("encoding", "")
    if encoding and encoding != job.encoding:
        try:
            # A guessed mapping is guessed again from the header read anew.
            context["report"] = services.read_again(
                job, encoding, guess=not saved and chosen not in mappings.shipped_mappings())
            spec = job.spec
        except LeadflowError as exc:
            context.update(error=exc.message, status=exc.status)
    columns = services.columns(job)
    if request.method == "POST":
        header = [c for c, _ in columns]
        try:
            spec = mappings.spec_from_choices(
                header, [request.POST.get(f"to_{i}", "ignore") for i in range(len(header))],
                [request.POST.get(f"values_{i}", "") for i in range(len(header))],
                request.POST.get("placeholders", ""), base=job.spec)
            job.spec = spec
            job.save(update_fields=["spec"])
            if request.POST.get("save_as", "").strip():
                services.save_mapping(request.POST["save_as"], spec, user=request.user)
            action = request.POST.get("action")
            if action in ("run", "dry_run"):
                services.start_job(job, spec=spec, dry_run=action == "dry_run")
                return redirect("imports:job", job_id=job.pk)
            context["report"] = services.preview(job, spec)
        except LeadflowError as exc:
            context.update(error=exc.message, status=exc.status)
    context.update(_mapping_context(job, columns, spec))
    return render(request, "imports/map.html", context, status=context.get("status", 200))


def _mapping_context(job: ImportJob, columns: list[tuple[str, list[str]]],
                     spec: dict[str, Any]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for i, (column, samples) in enumerate(columns):
        to, values = mappings.first_target(spec, column)
        rows.append({"i": i, "column": column, "samples": samples, "to": to,
                     "values": mappings.format_values(values)})
    customs: list[tuple[str, str]] = [(f"custom.{d.key}", d.label)
                                      for d in CustomFieldDefinition.objects.all()]
    known = {value for value, _ in customs}
    customs += [(r["to"], r["to"][7:]) for r in rows
                if r["to"].startswith("custom.") and r["to"] not in known]
    return {"rows": rows, "fields": mappings.target_labels(),
            "special": list(mappings.SPECIAL_LABELS.items()),
            "encodings": list(ENCODINGS.items()), "customs": customs,
            "encoding_label": ENCODINGS.get(job.encoding, job.encoding),
            "saved_mappings": ImportMapping.objects.all(),
            "shipped_mappings": list(mappings.shipped_mappings()),
            "placeholders": ", ".join(p for p in spec.get(
                "placeholders", mappings.DEFAULT_PLACEHOLDERS) if p)}


@login_required
@require_safe
def job_detail(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = services.get_job(request.user, job_id)
    running = job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    return render(request, "imports/job.html", {"job": job, "running": running})


@login_required
@require_safe
def job_errors(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = services.get_job(request.user, job_id)
    response = HttpResponse(services.job_error_report(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
