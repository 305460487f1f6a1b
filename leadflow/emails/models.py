from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class EmailTemplate(models.Model):
    """Subject and bodies are Django templates rendered with plain data about the lead
    (emails.personalise; the HTML autoescaped). The body is MJML (compiled to HTML once per
    version) or HTML; an empty text body is generated from the HTML. These fields are the
    version in `language`; EmailTemplateVersion holds the others (emails.rendering)."""

    class Format(models.TextChoices):
        HTML = "html", _("HTML")
        MJML = "mjml", _("MJML")

    name = models.CharField(_("name"), max_length=120, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("text body"), blank=True,
                                 help_text=_("Empty: generated from the HTML body."))
    body_html = models.TextField(_("body"), blank=True)
    body_format = models.CharField(_("body format"), max_length=4, choices=Format.choices,
                                   default=Format.HTML)
    language = models.CharField(_("default language"), max_length=8, default="en")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Marketing mail carries one-click unsubscribe and is never sent to opted-out leads;
    # transactional mail (a double opt-in confirmation) is neither.
    marketing = models.BooleanField(_("marketing email"), default=True)
    # The kind of marketing email it is: a lead who opted out of the topic does not get it.
    topic = models.ForeignKey("Topic", verbose_name=_("topic"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="templates")
    sender = models.ForeignKey("SenderIdentity", verbose_name=_("sender"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="templates")

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailTemplateVersion(models.Model):
    """A template in another language: chosen for leads whose `language` starts with it."""

    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"),
                                 on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("text body"), blank=True,
                                 help_text=_("Empty: generated from the HTML body."))
    body_html = models.TextField(_("body"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("email template version")
        verbose_name_plural = _("email template versions")
        ordering = ["template", "language"]
        constraints = [models.UniqueConstraint(fields=["template", "language"],
                                               name="email_template_version_unique")]

    def __str__(self) -> str:
        return f"{self.template_id} ({self.language})"


class Topic(models.Model):
    """A kind of marketing email (product news, events, offers): in the preference centre
    a lead chooses which topics they receive."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_fr = models.CharField(_("name (French)"), max_length=120, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_fr = models.CharField(_("description (French)"), max_length=300, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("email topic")
        verbose_name_plural = _("email topics")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class TopicOptOut(models.Model):
    """A lead does not want a topic's emails (only opt-outs are stored: a new topic is on)."""

    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="topic_opt_outs")
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), on_delete=models.CASCADE,
                              related_name="opt_outs")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("topic opt-out")
        verbose_name_plural = _("topic opt-outs")
        constraints = [models.UniqueConstraint(fields=["lead", "topic"],
                                               name="topic_opt_out_unique")]

    def __str__(self) -> str:
        return f"{self.lead_id} x {self.topic_id}"


class Suppression(models.Model):
    """An address that is never mailed again (marketing or not, whoever the lead): it
    hard-bounced, complained, or asked. Found by `address_hash`, a keyed hash of the
    normalised address (emails.suppression); after an erasure only the hash is left."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("hard bounce")
        SOFT_BOUNCES = "soft_bounces", _("repeated soft bounces")
        COMPLAINT = "complaint", _("spam complaint")
        UNSUBSCRIBED = "unsubscribed", _("asked not to be emailed")
        MANUAL = "manual", _("added by hand")

    address_hash = models.CharField(_("address hash"), max_length=64, unique=True)
    address = models.CharField(_("address"), max_length=254, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("added by"),
                                   null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.address or self.address_hash[:12]


class SenderIdentity(models.Model):
    """Who an email is from: the From name and address, and where replies go."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    from_name = models.CharField(_("from name"), max_length=120)
    from_email = models.EmailField(_("from address"), max_length=254)
    reply_to = models.EmailField(_("reply-to address"), max_length=254, blank=True)
    is_default = models.BooleanField(_("default sender"), default=False)

    class Meta:
        verbose_name = _("sender identity")
        verbose_name_plural = _("sender identities")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["is_default"],
                                               condition=models.Q(is_default=True),
                                               name="sender_identity_one_default")]

    def __str__(self) -> str:
        return f"{self.from_name} <{self.from_email}>"

    @property
    def domain(self) -> str:
        return self.from_email.rsplit("@", 1)[-1].lower()


class EmailMessage(WorkItem):
    """One email to one lead, and the outbox: the row is written, rendered, with its
    Message-ID, before any attempt; workers claim queued rows (core.workqueue) and send
    them (emails.outbox). `dedupe_key` makes a second request for the same email a no-op."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    class Lane(models.TextChoices):
        # Separate queues: a marketing burst never delays an opt-in confirmation.
        TRANSACTIONAL = "transactional", _("transactional")
        MARKETING = "marketing", _("marketing")

    class Skip(models.TextChoices):
        """Why a message was not sent (checked when queued and again when sent)."""

        NO_ADDRESS = "no_address", _("no email address")
        NO_CONSENT = "no_consent", _("no consent to marketing")
        DO_NOT_EMAIL = "do_not_email", _("do not email")
        SUPPRESSED = "suppressed", _("address on the suppression list")
        TOPIC = "topic_opt_out", _("opted out of the topic")
        FREQUENCY_CAP = "frequency_cap", _("frequency cap reached")
        ERASED = "erased", _("lead erased")
        PENDING_OPTIN = "pending_optin", _("awaiting double opt-in confirmation")
        NOT_TEST = "not_test", _("test mode: not on the test list")

    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="emails")
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"), null=True,
                                 on_delete=models.SET_NULL)
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), null=True,
                                 blank=True,
                                 on_delete=models.SET_NULL, related_name="emails")
    broadcast = models.ForeignKey("lists.Broadcast", verbose_name=_("one-off send"),
                                  null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="emails")
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, unique=True)
    to_email = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    lane = models.CharField(_("lane"), max_length=15, choices=Lane.choices,
                            default=Lane.TRANSACTIONAL)
    skip_reason = models.CharField(_("skip reason"), max_length=20, choices=Skip.choices,
                                   blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    sender = models.ForeignKey(SenderIdentity, verbose_name=_("sender"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="+")
    # Values given when queued for the rendering (a link, a step's data); the message is
    # rendered by the worker that first claims it, then the same bytes on every attempt.
    context = models.JSONField(_("context"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The outbox: when the next attempt is due (null once sent, skipped or failed for
    # good), and what it sends, rendered when queued so that every attempt sends the same.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    body_text = models.TextField(_("plain text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # A template's test sent to the person editing it (with a lead's data, to their own
    # address): not mail to the lead, nothing on the lead's timeline.
    test = models.BooleanField(_("test send"), default=False)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)
    # Told by a bounce (emails.bounces): refused for good, or delivered (a provider's event).
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    work_error_field = "error"
    # Who it goes out as, set for a batch by emails.delivery.assign_senders (not a column).
    envelope_sender: Any

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-id"]
        indexes = [models.Index(fields=["lane", "due_at"],
                                condition=models.Q(due_at__isnull=False),
                                name="email_outbox_lane_due_idx"),
                   # A bounce report names its message by Message-ID (emails.bounces).
                   models.Index(fields=["message_id"], name="email_message_id_idx"),
                   # Frequency caps count a lead's recent marketing sends.
                   models.Index(fields=["lead", "sent_at"],
                                condition=models.Q(lane="marketing", sent_at__isnull=False),
                                name="email_marketing_sent_idx")]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to_email} ({self.status})"


class FrequencyCap(models.Model):
    """At most `max_messages` marketing emails to a lead within `period_hours`: across all
    marketing email, or within one campaign. A send over the cap is skipped, or (`wait`)
    waits until the period lets it go."""

    class WhenReached(models.TextChoices):
        SKIP = "skip", _("skip the email")
        WAIT = "wait", _("wait and send it later")

    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), null=True,
                                 blank=True, on_delete=models.CASCADE,
                                 related_name="frequency_caps",
                                 help_text=_("Empty: all marketing email."))
    max_messages = models.PositiveIntegerField(_("at most (emails)"))
    period_hours = models.PositiveIntegerField(_("within (hours)"))
    when_reached = models.CharField(_("when reached"), max_length=4,
                                    choices=WhenReached.choices, default=WhenReached.SKIP)

    class Meta:
        verbose_name = _("frequency cap")
        verbose_name_plural = _("frequency caps")

    def __str__(self) -> str:
        return f"{self.max_messages} / {self.period_hours} h"


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


class SendWindow(models.Model):
    """How many messages went to (or from) a domain in one window of time: the rate limits
    shared by every worker (emails.ratelimit)."""

    key = models.CharField(_("key"), max_length=270)
    window = models.BigIntegerField(_("window"))
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("sending window")
        verbose_name_plural = _("sending windows")
        constraints = [models.UniqueConstraint(fields=["key", "window"],
                                               name="send_window_key_window_unique")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window}: {self.count}"


class Bounce(models.Model):
    """A report that a message did not arrive (a DSN, a provider's event) or that its
    recipient called it spam (an ARF report, a provider's complaint). `address_hash`
    (emails.suppression) stays after an erasure, which blanks the address and the
    diagnostic: the soft-bounce count and the rates still add up."""

    class Kind(models.TextChoices):
        HARD = "hard", _("hard bounce")
        SOFT = "soft", _("soft bounce")
        COMPLAINT = "complaint", _("spam complaint")

    class Via(models.TextChoices):
        SMTP = "smtp", _("bounce listener (SMTP)")
        HTTP = "http", _("API")
        PROVIDER = "provider", _("provider webhook")

    message = models.ForeignKey(EmailMessage, verbose_name=_("email"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="bounces")
    address = models.CharField(_("address"), max_length=254, blank=True)
    address_hash = models.CharField(_("address hash"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status code"), max_length=16, blank=True)
    diagnostic = models.TextField(_("diagnostic"), blank=True)
    via = models.CharField(_("received through"), max_length=10, choices=Via.choices)
    # A report that the sending server is still trying: shown, never retried nor counted.
    delayed = models.BooleanField(_("delayed, still trying"), default=False)
    # The same report received twice (an MTA retrying, a webhook replayed) counts once.
    key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["address_hash", "received_at"],
                                name="bounce_address_time_idx"),
                   models.Index(fields=["received_at"], name="bounce_time_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} ({self.address or self.address_hash[:12]})"


class DnsCheck(WorkItem):
    """The last look at a sending domain's SPF, DKIM and DMARC records (emails.dns_check).
    DNS is asked by a worker, never in a web request: "check now" makes the row due."""

    domain = models.CharField(_("domain"), max_length=253, unique=True)
    # {"records": [{"kind", "name", "expected", "found", "status", "detail"}, ...]}
    results = models.JSONField(_("results"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    last_error = models.TextField(_("last error"), blank=True)

    max_attempts = 3

    class Meta:
        verbose_name = _("DNS check")
        verbose_name_plural = _("DNS checks")

    def __str__(self) -> str:
        return self.domain
