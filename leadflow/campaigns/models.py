from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class Campaign(models.Model):
    """An automated journey: leads enter on an event, walk its steps, leave at the goal."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    entry_event_type = models.CharField(_("enters on event"), max_length=60, db_index=True,
                                        help_text=_("e.g. newsletter_signup, lead_created"))
    goal_event_type = models.CharField(_("goal event"), max_length=60, blank=True,
                                       help_text=_("leads leave when this happens, e.g. won"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Who its emails are from; empty: each template's sender, else the default identity.
    sender = models.ForeignKey("emails.SenderIdentity", verbose_name=_("sender"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="campaigns")
    # Test mode: its emails go to the leads on the test list only; the others' are
    # recorded skipped (EmailMessage.Skip.NOT_TEST) and their walk goes on.
    test_mode = models.BooleanField(_("test mode"), default=False,
                                    help_text=_("Send its emails only to the leads on "
                                                "the test list."))
    test_list = models.ForeignKey("lists.LeadList", verbose_name=_("test list"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    """One step of a campaign, run in `position` order."""

    class Kind(models.TextChoices):
        SEND_EMAIL = "send_email", _("Send an email")
        WAIT = "wait", _("Wait")
        ADD_POINTS = "add_points", _("Add points")
        # Decisions on the campaign's emails: go on if the lead engaged, else leave.
        IF_OPENED = "if_opened", _("Go on only if an email was opened")
        IF_CLICKED = "if_clicked", _("Go on only if a link was clicked")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="steps")
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    template = models.ForeignKey("emails.EmailTemplate", verbose_name=_("template"), null=True,
                                 blank=True,
                                 on_delete=models.PROTECT)
    wait_seconds = models.PositiveIntegerField(_("wait (seconds)"), default=0)
    points = models.IntegerField(_("points"), default=0)
    # A decision counts a person's opens and clicks only, unless told otherwise: privacy
    # proxies open and link scanners click every email (emails.engagement).
    count_machines = models.BooleanField(
        _("count machine opens and clicks"), default=False,
        help_text=_("Off: only a person's opens and clicks count, not those of privacy "
                    "proxies and link scanners."))

    class Meta:
        verbose_name = _("campaign step")
        verbose_name_plural = _("campaign steps")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="step_position"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.position}: {self.get_kind_display()}"


class Enrollment(WorkItem):
    """A lead's walk through a campaign. Workers claim due rows (next_run_at <= now)
    through core.workqueue; a step that raises is retried with backoff, and after its
    last attempt the enrollment ends as failed."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        COMPLETED = "completed", _("completed")
        EXITED = "exited", _("exited")
        FAILED = "failed", _("failed")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="enrollments")
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="enrollments")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    next_position = models.PositiveIntegerField(_("next step"), default=1)
    next_run_at = models.DateTimeField(_("next run at"), null=True, blank=True)
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    exit_reason = models.CharField(_("exit reason"), max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The email a send step queued and waits for before the walk goes on.
    waiting_for = models.ForeignKey("emails.EmailMessage", verbose_name=_("waiting for"),
                                    null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    work_due_field = "next_run_at"
    work_error_field = "last_error"

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-entered_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead"],
                                    condition=Q(status="active"),
                                    name="one_active_enrollment"),
        ]
        indexes = [
            models.Index(fields=["next_run_at"], condition=Q(status="active"),
                         name="enrollment_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.campaign_id} ({self.status})"
