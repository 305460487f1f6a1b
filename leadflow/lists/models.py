from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class LeadList(models.Model):
    """A static list of leads, filled by hand, by pasting addresses or ids, or by the API.
    Who sees a member is the lead's scope (accounts.permissions): a rep sees, counts and
    changes only their own leads on any list."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("list of leads")
        verbose_name_plural = _("lists of leads")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ListMember(models.Model):
    """A lead on a list, once."""

    # The unique constraint's index leads with the list: no index of its own.
    list = models.ForeignKey(LeadList, verbose_name=_("list"), on_delete=models.CASCADE,
                             related_name="members", db_index=False)
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="list_memberships")
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("list member")
        verbose_name_plural = _("list members")
        constraints = [models.UniqueConstraint(fields=["list", "lead"],
                                               name="list_member_unique")]

    def __str__(self) -> str:
        return f"{self.lead_id} on {self.list_id}"


class Broadcast(WorkItem):
    """A one-off send (a newsletter): a template to the members of a list, now or at
    `scheduled_at`. A worker claims it when due (core.workqueue) and queues one outbox row
    per member with an address, keyed `broadcast:<id>:<lead id>`, so running twice queues
    nothing twice. In test mode only the test list's members get it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SCHEDULED = "scheduled", _("scheduled")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        CANCELLED = "cancelled", _("cancelled")
        # Its messages could not be queued, after every attempt (see last_error).
        FAILED = "failed", _("failed")

    name = models.CharField(_("name"), max_length=120)
    template = models.ForeignKey("emails.EmailTemplate", verbose_name=_("template"),
                                 on_delete=models.PROTECT, related_name="broadcasts")
    list = models.ForeignKey(LeadList, verbose_name=_("list"), on_delete=models.PROTECT,
                             related_name="broadcasts")
    sender = models.ForeignKey("emails.SenderIdentity", verbose_name=_("sender"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="+")
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True,
                                        help_text=_("Empty: as soon as it is started."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    test_mode = models.BooleanField(
        _("test mode"), default=False,
        help_text=_("Send only to the members of the test list."))
    test_list = models.ForeignKey(LeadList, verbose_name=_("test list"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Counted when the messages are queued: members given a message, and members left out
    # because they have no address (they get no outbox row).
    queued_count = models.PositiveIntegerField(_("messages queued"), default=0)
    no_address_count = models.PositiveIntegerField(_("members without an address"),
                                                   default=0)
    # The claim: when the queueing is due (the schedule, then a lease while it runs).
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    max_attempts = 3

    class Meta:
        verbose_name = _("one-off send")
        verbose_name_plural = _("one-off sends")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["due_at"], condition=Q(due_at__isnull=False),
                                name="broadcast_due_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def cancellable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)
