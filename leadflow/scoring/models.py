from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.leads.models import Category


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
