"""Imports: saved column mappings and the history of import jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class ImportMapping(models.Model):
    """A named, reusable column mapping (the JSON format is described in
    leadflow/imports/mapping.py)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    spec = models.JSONField(_("mapping"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportJob(WorkItem):
    """An import and its history. Queued and running jobs are background work
    (core.workqueue): a job whose worker died is run again once its lease runs out
    (importing the same file twice changes nothing)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    # The CSV's text encoding (imports.reader.ENCODINGS), detected at upload; "xlsx" for
    # an Excel file.
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    mapping = models.ForeignKey(ImportMapping, verbose_name=_("saved mapping"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="jobs")
    spec = models.JSONField(_("mapping used"), default=dict)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.UPLOADED)
    total = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    header = models.JSONField(_("header row"), default=list, blank=True)
    # Rejected rows: [{"line", "field", "message", "cells"}], for the error report.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)

    work_error_field = "message"
    max_attempts = 3

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False),
                                name="import_job_due_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"
