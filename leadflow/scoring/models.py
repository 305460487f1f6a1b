from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem
from leadflow.leads.models import Category


class ScoreGroup(models.Model):
    """A named score (for example one per product line): each lead has one per group, made
    of the three dimensions fit, engagement and interest. The primary group's score is the
    one on the lead row (`Lead.score` and its dimensions: "hottest first" sorts by it) and
    drives the default stage thresholds.

    The total is the sum of the dimensions unless the group sets weights (then
    fit * weight_fit + engagement * weight_engagement + interest * weight_interest, each
    weight a whole number; an unset weight counts 1). The fit grade is A at or above
    grade_a_min fit points, then B, C, else D.
    """

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    weight_fit = models.PositiveSmallIntegerField(_("fit weight"), null=True, blank=True)
    weight_engagement = models.PositiveSmallIntegerField(_("engagement weight"), null=True,
                                                         blank=True)
    weight_interest = models.PositiveSmallIntegerField(_("interest weight"), null=True,
                                                       blank=True)
    grade_a_min = models.IntegerField(_("grade A from (fit points)"), default=40)
    grade_b_min = models.IntegerField(_("grade B from (fit points)"), default=25)
    grade_c_min = models.IntegerField(_("grade C from (fit points)"), default=10)
    # Decay, either or both (PRODUCT.md: no email opened and no visit for 3 months, -10).
    inactivity_days = models.PositiveIntegerField(
        _("inactivity period (days)"), null=True, blank=True,
        help_text=_("After this many days without activity, the inactivity points apply "
                    "once; the next activity re-arms them. Empty: no inactivity penalty."))
    inactivity_points = models.IntegerField(_("inactivity points"), default=-10)
    half_life_days = models.PositiveIntegerField(
        _("engagement half-life (days)"), null=True, blank=True,
        help_text=_("Engagement points lose half their value every this many days. Empty: "
                    "they keep their value."))

    class Meta:
        verbose_name = _("score group")
        verbose_name_plural = _("score groups")
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_primary"], condition=models.Q(is_primary=True),
                                    name="score_group_one_primary"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def primary(cls) -> ScoreGroup:
        """The primary group, created when missing (a migration creates it; a database
        emptied by hand or by a test's flush has none)."""
        group = cls.objects.filter(is_primary=True).first()
        if group is None:
            group, _ = cls.objects.get_or_create(
                is_primary=True, defaults={"name": "Score", "slug": "score"})
        return group


def primary_group_id() -> int:
    """The default group of a new rule."""
    return ScoreGroup.primary().pk


class RuleKind(models.TextChoices):
    EVENT = "event", _("On an event")
    ATTRIBUTE = "attribute", _("On a lead or company attribute")


class Per(models.TextChoices):
    """The period a rule's `max_times` counts in (calendar periods, in event time)."""

    EVER = "", _("in all")
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")


# The operators of a condition ({"field": ..., "op": ..., "value": ...}); the engine
# (leadflow.scoring.conditions) gives each one meaning in Python and in SQL.
OPERATORS = ("equals", "contains", "starts_with", "one_of", "gt", "gte", "lt", "lte",
             "exists")


class ScoreRule(models.Model):
    """Points for a lead, in one dimension of one score group.

    An event rule gives `points` for each event of `event_type` whose properties meet every
    condition, at most `max_times` (empty: every time) per `per` period, counting only events
    that occurred between `valid_from` and `valid_until` when set; the points are dated at
    the event's time. An attribute rule gives its points once while the lead (and its
    company) meet every condition, and takes them back when they no longer do.

    `conditions` is a list of {"field": name, "op": one of OPERATORS, "value": ...}: for an
    event rule the field is a property of the event; for an attribute rule a lead field
    ("job_title", "country", "budget", "custom.<key>", ...) or "company.<field>".
    """

    group = models.ForeignKey(ScoreGroup, verbose_name=_("score group"),
                              on_delete=models.PROTECT, related_name="rules",
                              default=primary_group_id)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=RuleKind.choices,
                            default=RuleKind.EVENT)
    event_type = models.CharField(_("event type"), max_length=60, blank=True, db_index=True)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    points = models.IntegerField(_("points"))
    category = models.CharField(_("dimension"), max_length=12, choices=Category.choices,
                                default=Category.ENGAGEMENT)
    max_times = models.PositiveIntegerField(
        _("at most (times)"), null=True, blank=True,
        help_text=_("1: once; empty: every time"))
    per = models.CharField(_("per"), max_length=5, choices=Per.choices, blank=True)
    valid_from = models.DateTimeField(_("counts events from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("counts events until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), null=True, blank=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["event_type", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.points:+d})"


class EntryKind(models.TextChoices):
    RULE = "rule", _("Rule")
    POINTS = "points", _("Points given")  # an event carrying its own points
    INACTIVITY = "inactivity", _("Inactivity")
    HALF_LIFE = "half_life", _("Half-life decay")


class ScoreEntry(models.Model):
    """One line of a lead's score in one group: which rule (or decay) gave how many points,
    for which event, dated at the event's time. Derived state: the engine rebuilds the
    lines from the events and the current rules.

    A group's dimension totals are the sums of its entries; this is what "why is this lead
    hot?" reads.
    """

    # Neither indexed alone: score_entry_lead_rule_idx starts with the lead and
    # score_entry_once with the rule (two indexes fewer to write per entry).
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE,
                             related_name="score_entries", db_index=False)
    group = models.ForeignKey(ScoreGroup, on_delete=models.CASCADE, related_name="+",
                              db_index=False)
    rule = models.ForeignKey(ScoreRule, null=True, blank=True, on_delete=models.SET_NULL,
                             db_index=False)
    event = models.ForeignKey("tracking.Event", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=EntryKind.choices, default=EntryKind.RULE)
    category = models.CharField(max_length=12, choices=Category.choices)
    points = models.IntegerField()
    reason = models.CharField(max_length=200)
    # When the points were earned (the event's time; for decay, when it applied).
    occurred_at = models.DateTimeField()
    # When the line was written (processing time).
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("score entry")
        verbose_name_plural = _("score entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "event"], name="score_entry_once"),
            # Decay lines are keyed, so that two workers (or a rebuild racing the periodic
            # job) write each one once; partial, so rule lines pay no index write for them.
            models.UniqueConstraint(fields=["lead", "group", "occurred_at"],
                                    condition=models.Q(kind="inactivity"),
                                    name="score_entry_inactivity_once"),
            models.UniqueConstraint(fields=["lead", "group"],
                                    condition=models.Q(kind="half_life"),
                                    name="score_entry_half_life_once"),
        ]
        indexes = [models.Index(fields=["lead", "rule"], name="score_entry_lead_rule_idx")]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.reason}"


class LeadGroupScore(models.Model):
    """A lead's score in a group other than the primary one (the primary group's is on the
    lead row). Derived from the entries, like the lead's columns."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE,
                             related_name="group_scores", db_index=False)
    group = models.ForeignKey(ScoreGroup, on_delete=models.CASCADE, related_name="+",
                              db_index=False)  # lead_group_score_idx starts with it
    total = models.IntegerField(_("score"), default=0)
    fit = models.IntegerField(_("fit"), default=0)
    engagement = models.IntegerField(_("engagement"), default=0)
    interest = models.IntegerField(_("interest"), default=0)
    grade = models.CharField(_("fit grade"), max_length=1, blank=True)

    class Meta:
        verbose_name = _("group score")
        verbose_name_plural = _("group scores")
        constraints = [models.UniqueConstraint(fields=["lead", "group"],
                                               name="lead_group_score_unique")]
        indexes = [models.Index(fields=["group", "-total"], name="lead_group_score_idx")]

    def __str__(self) -> str:
        return f"{self.total}"


class DecayRun(WorkItem):
    """The claim row of the periodic decay job (leadflow.scoring.decay.apply_decay): one
    row, claimed through core.workqueue, so that one worker at a time runs the job and a
    dead worker's run is taken over when its lease ends. `due_at` is the next run."""

    name = models.CharField(_("name"), max_length=20, unique=True, default="decay")
    due_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    ran_at = models.DateTimeField(_("last run"), null=True, blank=True)

    class Meta:
        verbose_name = _("score decay run")
        verbose_name_plural = _("score decay runs")

    def __str__(self) -> str:
        return self.name
