"""A rep's work on a lead: tasks (with their reminders, claimed through core.workqueue)
and opportunities (deals, several per lead). Logged calls, emails, meetings and notes are
events on the timeline (tracking.Event) and have no table of their own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadflow.core.workqueue import WorkItem


class Task(WorkItem):
    """Something a person is to do about a lead by `due_at`. Its reminder is background
    work: `remind_at` is when the assignee is next told (`remind_before` minutes before the
    due time, then at the due time), empty once told or done. A claim moves `remind_at`
    forward by the lease (core.workqueue), so which reminder is due is read from the
    clock against `due_at`, not from `remind_at`."""

    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="tasks")
    title = models.CharField(_("title"), max_length=200)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"),
                                 on_delete=models.CASCADE, related_name="sales_tasks",
                                 db_index=False)  # sales_task_mine_idx starts with it
    due_at = models.DateTimeField(_("due at"))
    remind_before = models.PositiveIntegerField(_("remind minutes before"), default=0)
    remind_at = models.DateTimeField(_("next reminder at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))
    last_error = models.TextField(_("last error"), blank=True, default="")

    work_due_field = "remind_at"

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"], name="sales_task_mine_idx"),
            models.Index(fields=["remind_at"], name="sales_task_remind_idx",
                         condition=models.Q(remind_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.title


class Opportunity(models.Model):
    """A deal with a lead: what it is worth, in which currency, for which product, and
    where it stands. Winning one makes the lead a customer (lifecycle.mark_outcome)."""

    class Stage(models.TextChoices):
        OPEN = "open", pgettext_lazy("opportunity", "Open")
        WON = "won", pgettext_lazy("opportunity", "Won")
        LOST = "lost", pgettext_lazy("opportunity", "Lost")

    # Erasure keeps the row for revenue reports, blanked of its free text
    # (leads.privacy reads ERASURE_BLANKS, as for the stage history).
    ERASURE_BLANKS = ("name", "reason")

    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="opportunities")
    name = models.CharField(_("name"), max_length=200)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    product = models.CharField(_("product"), max_length=200, blank=True, default="")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices,
                             default=Stage.OPEN)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    reason = models.CharField(_("won or lost reason"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name
