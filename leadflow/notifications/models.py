from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """Something a person is told in the app (and, for most kinds, by email). Kinds are
    open: the routing and SLA work adds its own (a reassignment, a response-time alert);
    `payload` holds what the kind shows (the hand-off's reasons, the stage)."""

    class Kind(models.TextChoices):
        HANDOFF = "handoff", _("Lead handed off to you")
        COMPLAINT_RATE = "complaint_rate", _("Spam complaint rate too high")
        # A campaign step asks the owner to follow a lead up ({"campaign", "message"}).
        CAMPAIGN = "campaign", _("A campaign asks you to follow up a lead")
        # A task on a lead is due soon or now ({"task_id", "title", "due_at", "when":
        # "soon" | "due"}): leadflow.sales.
        TASK = "task", _("A task of yours is due")
        # A webhook subscription was turned off after failing ({"name", "url"}).
        WEBHOOK_DISABLED = "webhook_disabled", _("A webhook was disabled after failures")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # Not indexed alone: notification_inbox_idx starts with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"),
                             on_delete=models.CASCADE, related_name="notifications",
                             db_index=False)
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="notifications")
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # One notification per (cause, person): a replayed event tells nobody twice.
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("in-app notification")
        verbose_name_plural = _("in-app notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"],
                                name="notification_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
