"""Re-scores queued by the rule editor: background work (core.workqueue), not a request.

A full re-score may take about 30 s at a million leads, too long to hold a page or an API
call open. Saving a rule or group change writes a `RescoreJob` row (queued) in the same
transaction and wakes a worker after the commit; the worker claims it, runs the engine's
`rescore(cause="rule_change", notify=...)` and writes the counts on the row, which the
editor's page and `GET /api/v1/scoring/jobs/{id}` show (queued, running, done, failed).
A lost wake-up or a dead worker leaves the row due: the periodic tick runs it
(`run_due`); a re-score is idempotent, so running it twice is harmless.

The model lives here rather than in models.py while the engine's models change beside
it (see the ready() of scoring's AppConfig, which loads it).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from leadflow.core import clock, workqueue
from leadflow.scoring.rescore import LostLease, rescore

if TYPE_CHECKING:
    from leadflow.accounts.models import User

log = logging.getLogger(__name__)

# Renewed between chunks while rescore() runs; a worker that dies leaves the job to be
# taken over once it runs out.
LEASE = timedelta(minutes=5)


class RescoreJob(workqueue.WorkItem):
    """One re-score of every lead after a configuration change, and its counts."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    # What changed, in the editor's words ("Rule “Demo request” changed").
    reason = models.CharField(_("change"), max_length=200, blank=True)
    cause = models.CharField(_("cause"), max_length=20, default="rule_change")
    # The rules whose entries are rebuilt (an edit's); null: every rule and the events
    # carrying their own points.
    rule_ids = models.JSONField(_("rules"), null=True, blank=True)
    # Their points, category or group changed, not which events they match.
    in_place = models.BooleanField(_("values only"), default=False)
    notify = models.BooleanField(
        _("run hand-offs and campaign entries"), default=False,
        help_text=_("Whether stage moves this re-score causes run hand-offs and campaign "
                    "entries (the editor's choice at save)."))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"),
                                     null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    leads_changed = models.PositiveIntegerField(_("leads re-scored"), default=0)
    stage_moves = models.PositiveIntegerField(_("stage changes"), default=0)
    seconds = models.FloatField(_("duration (s)"), default=0)
    message = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("queued at"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)

    work_error_field = "message"
    max_attempts = 3

    class Meta:
        app_label = "scoring"
        verbose_name = _("re-score")
        verbose_name_plural = _("re-scores")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False),
                                name="rescore_job_due_idx")]

    def __str__(self) -> str:
        return f"{self.reason or self.cause} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


def queue(*, reason: str, notify: bool, user: User | None = None,
          cause: str = "rule_change", rule_ids: list[int] | None = None,
          in_place: bool = False) -> RescoreJob:
    """Queue a re-score of every lead (in the caller's transaction; the worker is woken
    after the commit), of the entries of `rule_ids` only when given (None: all)."""
    now = clock.now()
    job = RescoreJob.objects.create(reason=reason[:200], notify=notify, cause=cause,
                                    rule_ids=rule_ids, in_place=in_place,
                                    requested_by=user if user and user.pk else None,
                                    created_at=now, due_at=now)
    transaction.on_commit(lambda: _wake(job.pk))
    return job


def _wake(job_id: int) -> None:
    from leadflow.scoring.tasks import run_rescore_task

    try:
        run_rescore_task.enqueue(job_id)
    except Exception:  # the queue is down: the periodic tick still finds the job
        log.exception("could not enqueue the re-score %s", job_id)


def run(job_id: int, *, worker: str = "") -> str:
    """Run one queued job (the wake-up task). Safe to run twice: only its claimer works."""
    claim = _claim(RescoreJob.objects.filter(pk=job_id), worker)
    return _run_claimed(claim) if claim else "skipped"


def run_due(*, worker: str = "") -> int:
    """Periodic job: queued re-scores whose wake-up was lost, and those whose worker died."""
    done = 0
    while claim := _claim(RescoreJob.objects.all(), worker):
        _run_claimed(claim)
        done += 1
    return done


def _claim(jobs: models.QuerySet[RescoreJob], worker: str) -> workqueue.Claim:
    return workqueue.claim(
        jobs.filter(status__in=(RescoreJob.Status.QUEUED, RescoreJob.Status.RUNNING)),
        limit=1, lease=LEASE, worker=worker, exhausted=_gave_up,
        status=RescoreJob.Status.RUNNING, started_at=clock.now())


def _gave_up(claim: workqueue.Claim) -> None:
    for pk in claim.ids:
        _failed(claim, pk, "the worker stopped during the last attempt")


def _failed(claim: workqueue.Claim, pk: int, error: str) -> bool | None:
    return workqueue.retry(claim, pk, error,
                           final={"status": RescoreJob.Status.FAILED,
                                  "finished_at": clock.now()},
                           again={"status": RescoreJob.Status.QUEUED})


def _run_claimed(claim: workqueue.Claim) -> str:
    job = RescoreJob.objects.get(pk=claim.ids[0])
    try:
        # Not one transaction: rescore commits lead-id chunk by chunk (a million leads in
        # one transaction would hold their locks for the whole run); a retry redoes it all.
        result = rescore(cause=job.cause, notify=job.notify, rule_ids=job.rule_ids,
                         in_place=job.in_place,
                         all_totals=job.cause == "group_change",
                         keep_alive=lambda: workqueue.keep_alive(claim))
    except LostLease:  # another worker took the job over; it redoes the whole re-score
        log.warning("re-score %s: lease lost, left to the worker that took it", job.pk)
        return "lost"
    except Exception as exc:
        log.exception("re-score %s failed (attempt %s)", job.pk, claim.attempts.get(job.pk))
        final = _failed(claim, job.pk, f"{type(exc).__name__}: {exc}")
        return "lost" if final is None else "failed" if final else "retrying"
    workqueue.done(claim, job.pk, status=RescoreJob.Status.DONE,
                   leads_changed=result.leads_changed, stage_moves=result.stage_moves,
                   seconds=round(result.seconds, 3), message="", finished_at=clock.now())
    return "done"
