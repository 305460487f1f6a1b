from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.leads.stages import Stage


class StageThreshold(models.Model):
    """Reaching `min_score` moves a lead (still new or in nurture) to `stage`."""

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, unique=True)
    min_score = models.IntegerField(_("minimum score"))

    class Meta:
        verbose_name = _("stage threshold")
        verbose_name_plural = _("stage thresholds")
        ordering = ["min_score"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} ≥ {self.min_score}"


class StageChange(models.Model):
    """The stage history of a lead. Append-only."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE,
                             related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    # Erasure keeps the rows (reports count stage changes) and blanks these fields
    # (leads.privacy reads it: leads stands below lifecycle).
    ERASURE_BLANKS = ("reason",)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} -> {self.to_stage}"
