from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class Campaign(models.Model):
    """An automated journey: leads enter (on an event, a score, a segment, by hand), walk
    its graph of steps, and leave at the goal (a conversion) or at the end."""

    class Reentry(models.TextChoices):
        NEVER = "never", _("never: once per lead")
        AFTER_EXIT = "after_exit", _("again once it has left")
        ALWAYS = "always", _("every time (starts over)")

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    entry_event_type = models.CharField(_("enters on event"), max_length=60, db_index=True,
                                        blank=True,
                                        help_text=_("e.g. newsletter_signup, lead_created"))
    # Property conditions on the entry event (scoring.conditions): the same event type may
    # be the entry with some properties and the goal with others.
    entry_conditions = models.JSONField(_("entry event conditions"), default=list,
                                        blank=True)
    # Enters when the score (of the group, else the primary one) reaches this.
    entry_score = models.IntegerField(_("enters at score"), null=True, blank=True)
    entry_score_group = models.ForeignKey("scoring.ScoreGroup", verbose_name=_("score group"),
                                          null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    # Enters when joining this segment (and, if told so, leaves when leaving it).
    entry_segment = models.ForeignKey("segments.Segment", verbose_name=_("enters on joining"),
                                      null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="campaigns")
    exit_on_segment_leave = models.BooleanField(_("leaves when leaving the segment"),
                                                default=False)
    goal_event_type = models.CharField(_("goal event"), max_length=60, blank=True,
                                       help_text=_("leads leave when this happens, e.g. won"))
    goal_conditions = models.JSONField(_("goal event conditions"), default=list, blank=True)
    reentry = models.CharField(_("re-entry"), max_length=12, choices=Reentry.choices,
                               default=Reentry.AFTER_EXIT)
    reentry_seconds = models.PositiveIntegerField(
        _("minimum time between entries (seconds)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    archived = models.BooleanField(_("archived"), default=False)
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
    """One step of a campaign's graph, named by its `position` (unique in the campaign,
    kept when the graph is edited: memberships say where they stand by it).

    After an action the walk goes to `next_step`, or, when none is set, to the step with
    the next higher position (a campaign written as a list needs no links); after the last
    one it is complete. A decision or condition goes to `next_step` on yes and `no_step` on
    no; no `no_step`: the lead leaves the campaign. What each kind does is in
    campaigns.steps (the kinds are open: other apps register more)."""

    class Kind(models.TextChoices):
        SEND_EMAIL = "send_email", _("Send an email")
        WAIT = "wait", _("Wait")
        ADD_POINTS = "add_points", _("Add points")
        SET_FIELD = "set_field", _("Set a field")
        CHANGE_STAGE = "change_stage", _("Change the stage")
        NOTIFY_OWNER = "notify_owner", _("Notify the owner")
        ASSIGN = "assign", _("Assign")
        ADD_TO_SEGMENT = "add_to_segment", _("Add to a segment")
        REMOVE_FROM_SEGMENT = "remove_from_segment", _("Remove from a segment")
        ADD_TO_LIST = "add_to_list", _("Add to a list")
        REMOVE_FROM_LIST = "remove_from_list", _("Remove from a list")
        START_CAMPAIGN = "start_campaign", _("Start another campaign")
        EXIT = "exit", _("Exit the campaign")
        # Decisions on behaviour: yes as soon as the lead does it (within the time limit),
        # no after it. Without a time limit, whether it was done already.
        IF_OPENED = "if_opened", _("Opened an email?")
        IF_CLICKED = "if_clicked", _("Clicked a link?")
        IF_CLICKED_LINK = "if_clicked_link", _("Clicked a given link?")
        IF_VISITED = "if_visited", _("Visited a page?")
        IF_SUBMITTED = "if_submitted", _("Submitted a form?")
        IF_BOUGHT = "if_bought", _("Bought?")
        IF_EVENT = "if_event", _("Did something?")
        # Conditions on data, decided at once.
        CONDITION = "condition", _("Condition")
        SPLIT = "split", _("Random split (A/B)")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="steps")
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=30)
    label = models.CharField(_("label"), max_length=120, blank=True)
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
    # What the kind needs beyond the columns above (campaigns.steps validates it): a wait
    # spec, a decision's event and time limit, a condition's filter, a field and value...
    config = models.JSONField(_("settings"), default=dict, blank=True)
    next_step = models.ForeignKey("self", verbose_name=_("then (yes)"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    no_step = models.ForeignKey("self", verbose_name=_("else (no)"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    # Where the builder draws it (empty: laid out automatically).
    x = models.IntegerField(_("x"), null=True, blank=True)
    y = models.IntegerField(_("y"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign step")
        verbose_name_plural = _("campaign steps")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="step_position"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.position}: {self.kind_label}"

    @property
    def kind_label(self) -> str:
        from leadflow.campaigns.steps import kind_label

        return kind_label(self.kind)


class Enrollment(WorkItem):
    """A lead's walk through a campaign. Workers claim due rows (next_run_at <= now)
    through core.workqueue; a step that raises is retried with backoff, and after its
    last attempt the enrollment ends as failed."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        COMPLETED = "completed", _("completed")
        EXITED = "exited", _("exited")
        CONVERTED = "converted", _("converted")
        FAILED = "failed", _("failed")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="enrollments")
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="enrollments")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.ACTIVE)
    # The step it stands at (its position), since when, and what it waits for.
    next_position = models.PositiveIntegerField(_("next step"), default=1)
    next_run_at = models.DateTimeField(_("next run at"), null=True, blank=True)
    step_since = models.DateTimeField(_("at this step since"), null=True, blank=True)
    # A decision waiting for an event: its type (the pipeline wakes the membership when the
    # lead does one; campaigns.entry) and the time limit, after which it takes the no path.
    waits_for = models.CharField(_("waits for"), max_length=60, blank=True)
    deadline = models.DateTimeField(_("decision time limit"), null=True, blank=True)
    # How many times the walk went back to a lower position: with the position, it keys
    # each visit's effects, so a step run twice for one visit does its work once.
    loop = models.PositiveIntegerField(_("loop"), default=0)
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
            models.Index(fields=["lead", "waits_for"],
                         condition=Q(status="active") & ~Q(waits_for=""),
                         name="enrollment_waiting_idx"),
            models.Index(fields=["campaign", "next_position"], condition=Q(status="active"),
                         name="enrollment_at_step_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.campaign_id} ({self.status})"


class StepStat(models.Model):
    """How many memberships entered, passed, converted at and exited from a step: counters
    the engine adds to once per batch (the waiting ones are counted from Enrollment)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="step_stats")
    position = models.PositiveIntegerField(_("step"))
    entered = models.PositiveIntegerField(_("entered"), default=0)
    passed = models.PositiveIntegerField(_("passed"), default=0)
    converted = models.PositiveIntegerField(_("converted"), default=0)
    exited = models.PositiveIntegerField(_("exited"), default=0)

    class Meta:
        verbose_name = _("step statistics")
        verbose_name_plural = _("step statistics")
        constraints = [models.UniqueConstraint(fields=["campaign", "position"],
                                               name="step_stat_unique")]

    def __str__(self) -> str:
        return f"{self.campaign_id} #{self.position}"
