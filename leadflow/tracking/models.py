from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class _FromRegistry:
    """A set read from the event-type registry on first use (it imports this module), then
    kept on the class as a plain attribute."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type) -> frozenset[str]:
        from leadflow.tracking import events

        value: frozenset[str] = getattr(events, self.name)
        setattr(owner, self.name, value)
        return value


class EventType:
    """Event types the product itself emits or reacts to. Any other name is allowed."""

    LEAD_CREATED = "lead_created"
    LEAD_UPDATED = "lead_updated"
    PAGE_VIEW = "page_view"
    FORM_SUBMITTED = "form_submitted"
    NEWSLETTER_SIGNUP = "newsletter_signup"
    DEMO_REQUESTED = "demo_requested"
    EMAIL_SENT = "email_sent"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    EMAIL_FAILED = "email_failed"
    # Not sent, and why ({"reason": EmailMessage.Skip value, ...}).
    EMAIL_SKIPPED = "email_skipped"
    # {"message_id", "kind": hard|soft, "status": "5.1.1", "diagnostic"} (emails.bounces)
    EMAIL_BOUNCED = "email_bounced"
    # {"message_id"}: the recipient reported the email as spam (emails.bounces)
    EMAIL_COMPLAINED = "email_complained"
    UNSUBSCRIBED = "unsubscribed"
    ASSIGNED = "assigned"
    STAGE_CHANGED = "stage_changed"
    SCORE_CHANGED = "score_changed"
    CAMPAIGN_ENTERED = "campaign_entered"
    CAMPAIGN_LEFT = "campaign_left"
    CAMPAIGN_STEP_FAILED = "campaign_step_failed"
    WON = "won"
    LOST = "lost"
    NOTE = "note"
    CHANGE_PROPOSED = "change_proposed"
    CAMPAIGN_POINTS = "campaign_points"
    POINTS_ADJUSTED = "points_adjusted"
    PIPELINE_HALTED = "pipeline_halted"
    MERGED = "merged"
    MERGE_UNDONE = "merge_undone"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    OPTIN_CONFIRMED = "optin_confirmed"
    DOWNLOAD = "download"
    OUTBOUND_CLICK = "outbound_click"
    # {"form": slug, "score": n, "max": m, "band": key, "answers": {question: answer}}
    ASSESSMENT_COMPLETED = "assessment_completed"
    # A lead reached (or jumped past) the hand-off stage: sales are told (notifications).
    HANDED_OFF = "handed_off"
    # Events that carry their own points ({"points": n, "reason": ..., "category": ...})
    # instead of getting them from a rule.
    EXPLICIT_POINTS = frozenset({CAMPAIGN_POINTS, POINTS_ADJUSTED})

    QUALITY_FLAGS_CHANGED = "quality_flags_changed"
    # The lead chose in the preference centre: {"turned_off": [topic keys], "turned_on":
    # [...], "all_off": bool}.
    PREFERENCES_CHANGED = "preferences_changed"
    # {"value": 1299.0, "currency": "EUR", "product": ..., "product_range": ...,
    # "order_id": ...}: sent by the customer's server (revenue a page could forge).
    PURCHASE = "purchase"
    # A rep's logged touches (leadflow.sales): {"text", "outcome" (calls), "duration"
    # (minutes: calls and meetings), "subject" (emails)}. Notes are NOTE ({"text"}).
    CALL_LOGGED = "call_logged"
    EMAIL_LOGGED = "email_logged"
    MEETING_LOGGED = "meeting_logged"
    # {"opportunity_id", "name", "value", "currency", "product"} (+ "stage", "reason" when
    # closed): a lead's deals (leadflow.sales); the lead's own won/lost stay WON/LOST.
    OPPORTUNITY_OPENED = "opportunity_opened"
    OPPORTUNITY_CLOSED = "opportunity_closed"

    # Read from the registry (leadflow.tracking.events), where each type is declared.
    OUR_ACTIONS = _FromRegistry()
    KEEP_LAST_TOUCH = _FromRegistry()


class Event(models.Model):
    """One thing a lead (or anonymous visitor) did, or that was done to it. Append-only.

    Scores, stages, segment membership and reports are derived from this timeline.
    """

    class Via(models.TextChoices):
        API = "api", _("API")
        FORM = "form", _("Form")
        TRACKING = "tracking", _("Tracking")
        EMAIL = "email", _("Email")
        UI = "ui", _("User interface")
        IMPORT = "import", _("Import")
        SYSTEM = "system", _("Leadflow")

    # No foreign-key constraints in the database on this table (docs/decisions/0003): they
    # were a third of the cost of storing a batch of events. Django still cascades a lead's
    # deletion to its events and nulls a deleted actor.
    # Not indexed alone: event_lead_time_idx starts with it and serves every look-up by
    # lead (timeline, cascade), one index fewer to write per event.
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), null=True, blank=True,
                             on_delete=models.CASCADE,
                             related_name="events", db_constraint=False, db_index=False)
    # Looked up only for anonymous events (identify, erasure): indexed there alone, so the
    # great majority of events, a known lead's, cost one index entry fewer to store.
    visitor_id = models.CharField(_("visitor ID"), max_length=64, blank=True)
    type = models.CharField(_("type"), max_length=60)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    via = models.CharField(_("via"), max_length=10, choices=Via.choices, default=Via.SYSTEM)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    # Replaying a batch with the same keys stores nothing new.
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False),
                                    name="event_idempotency_key_unique"),
        ]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="event_lead_time_idx"),
            models.Index(fields=["type", "occurred_at"], name="event_type_time_idx"),
            models.Index(fields=["visitor_id"], condition=Q(lead__isnull=True),
                         name="event_anonymous_visitor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class TrackingSite(models.Model):
    """A website carrying the snippet. Its key names it in every beacon; events whose
    Origin (or Referer) is not one of its domains are refused."""

    name = models.CharField(_("name"), max_length=120)
    key = models.CharField(_("site key"), max_length=40, unique=True)
    # Host names, one per line; "example.com" also allows its subdomains.
    allowed_domains = models.TextField(_("allowed domains"), blank=True)
    # With it, the customer's server signs each visitor's email (docs/tracking-trust.md):
    # a signed identify may rewrite the lead; an unsigned one only fills empty fields.
    identity_secret = models.CharField(_("identity secret"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tracking site")
        verbose_name_plural = _("tracking sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def domains(self) -> list[str]:
        return [d.strip().lower() for d in self.allowed_domains.split() if d.strip()]


class Visitor(models.Model):
    """One browser, named by the first-party `lf_vid` cookie. Linked to a lead once it
    identifies (form, tracked email click, `leadflow('identify')`)."""

    visitor_id = models.CharField(_("visitor ID"), max_length=64, unique=True)
    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), null=True, blank=True,
                             on_delete=models.SET_NULL,
                             related_name="visitors")
    site = models.ForeignKey(TrackingSite, verbose_name=_("site"), null=True, blank=True,
                             on_delete=models.SET_NULL,
                             related_name="+")
    # The existing lead an unverified identify (or form) named: the visitor's events stay
    # anonymous (they score nothing) until it is verified and linked as `lead`.
    # A real related name: merge, access export and erasure find a lead's rows through
    # its relations, and these browsers and their anonymous visits are about the person.
    claimed_lead = models.ForeignKey("leads.Lead", verbose_name=_("claimed as lead"), null=True,
                                     blank=True,
                                     on_delete=models.SET_NULL,
                                     related_name="claimed_visitors")
    # What the claim came with ("optin:<id>" when a double opt-in can verify it).
    claimed_via = models.CharField(_("claimed via"), max_length=40, blank=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    user_agent = models.CharField(_("browser (user agent)"), max_length=400, blank=True)
    is_bot = models.BooleanField(_("bot"), default=False)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.visitor_id


class BotHitCount(models.Model):
    """Events sent by known crawlers, counted per site and day instead of stored."""

    site = models.ForeignKey(TrackingSite, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("bot visit count")
        verbose_name_plural = _("bot visit counts")
        constraints = [models.UniqueConstraint(fields=["site", "day"],
                                               name="bot_hit_count_site_day_unique")]

    def __str__(self) -> str:
        return f"{self.day}: {self.hits}"
