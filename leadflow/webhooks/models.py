from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class Subscription(models.Model):
    """An endpoint of the customer's that receives signed events (docs/webhooks.md)."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=2000)
    # Keys of leadflow.webhooks.kinds.REGISTRY.
    events = models.JSONField(_("events"), default=list)
    # Conditions on the event's properties (scoring.conditions' language); all must hold.
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    allow_private = models.BooleanField(_("allow private addresses"), default=False)
    secret = models.CharField(_("secret"), max_length=100)
    # The secret before the last rotation, still signed with until `previous_until`.
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True)
    previous_until = models.DateTimeField(_("previous secret valid until"), null=True,
                                          blank=True)
    # Deliveries failed for good in a row; reset by a success.
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    disabled_reason = models.CharField(_("disabled because"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("webhooks:detail", args=[self.pk])


class Delivery(WorkItem):
    """One message to one subscription, delivered and retried by workers."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(Subscription, verbose_name=_("subscription"),
                                     on_delete=models.CASCADE, related_name="deliveries",
                                     db_index=False)  # webhook_delivery_log_idx starts with it
    # Erasing the lead deletes its deliveries (their payloads hold personal data).
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="webhook_deliveries")
    kind = models.CharField(_("kind"), max_length=60)
    message_id = models.CharField(_("message id"), max_length=60, unique=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    request_headers = models.JSONField(_("request headers"), default=dict, blank=True)
    response_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    # Standard Webhooks' schedule: the delays after attempts 1..7 (about 28 hours in all).
    max_attempts: ClassVar[int] = 8

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], name="webhook_delivery_due_idx",
                         condition=Q(due_at__isnull=False)),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log_idx"),
        ]
