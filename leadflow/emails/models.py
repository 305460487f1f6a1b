from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class EmailTemplate(models.Model):
    """Subject and bodies are Django templates rendered with `lead` (autoescaped)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    # Marketing mail carries one-click unsubscribe and is never sent to opted-out leads;
    # transactional mail (a double opt-in confirmation) is neither.
    marketing = models.BooleanField(_("marketing email"), default=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailMessage(WorkItem):
    """One email to one lead, and the outbox: the row is written, rendered, with its
    Message-ID, before any attempt; workers claim queued rows (core.workqueue) and send
    them (emails.outbox). `dedupe_key` makes a second request for the same email a no-op."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped (opted out)")

    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="emails")
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"), null=True,
                                 on_delete=models.SET_NULL)
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), null=True,
                                 blank=True,
                                 on_delete=models.SET_NULL, related_name="emails")
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, unique=True)
    to_email = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    error = models.TextField(_("error"), blank=True)
    # The outbox: when the next attempt is due (null once sent, skipped or failed for
    # good), and what it sends, rendered when queued so that every attempt sends the same.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    body_text = models.TextField(_("plain text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)

    work_error_field = "error"

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-id"]
        indexes = [models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False),
                                name="email_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to_email} ({self.status})"


class EmailLink(models.Model):
    """A link in a sent email, by position. The click URL names (message, index) only;
    the destination is looked up here, never taken from the request (no open redirect)."""

    message = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="links")
    index = models.PositiveIntegerField()
    url = models.URLField(max_length=2000)

    class Meta:
        verbose_name = _("tracked email link")
        verbose_name_plural = _("tracked email links")
        constraints = [models.UniqueConstraint(fields=["message", "index"],
                                               name="email_link_message_index_unique")]

    def __str__(self) -> str:
        return self.url
