from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

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


class ScoreRule(models.Model):
    """Points given when an event of `event_type` (whose properties contain `conditions`)
    enters the pipeline."""

    name = models.CharField(_("name"), max_length=120)
    event_type = models.CharField(_("event type"), max_length=60, db_index=True)
    conditions = models.JSONField(_("property conditions"), default=dict, blank=True,
                                  help_text=_('e.g. {"form": "newsletter"}: every key must '
                                              "match the event's property"))
    points = models.IntegerField(_("points"))
    category = models.CharField(_("category"), max_length=12, choices=Category.choices,
                                default=Category.ENGAGEMENT)
    once_per_lead = models.BooleanField(
        _("once per lead"), default=False,
        help_text=_('count only the first matching event ("at least one email opened")'))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["event_type", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.points:+d})"

    def matches(self, properties: dict) -> bool:
        return all(properties.get(k) == v for k, v in (self.conditions or {}).items())


class ScoreEntry(models.Model):
    """One line of a lead's score: which rule gave how many points for which event.

    The lead's score is the sum of its entries; this is what "why is this lead hot?" reads.
    """

    # Neither indexed alone: score_entry_lead_rule_idx starts with the lead and
    # score_entry_once with the rule (two indexes fewer to write per entry).
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE,
                             related_name="score_entries", db_index=False)
    rule = models.ForeignKey(ScoreRule, null=True, blank=True, on_delete=models.SET_NULL,
                             db_index=False)
    event = models.ForeignKey("tracking.Event", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=12, choices=Category.choices)
    points = models.IntegerField()
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("score entry")
        verbose_name_plural = _("score entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "event"], name="score_entry_once"),
        ]
        indexes = [models.Index(fields=["lead", "rule"], name="score_entry_lead_rule_idx")]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.reason}"
