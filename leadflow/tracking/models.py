from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
    UNSUBSCRIBED = "unsubscribed"
    ASSIGNED = "assigned"
    STAGE_CHANGED = "stage_changed"
    SCORE_CHANGED = "score_changed"
    CAMPAIGN_ENTERED = "campaign_entered"
    CAMPAIGN_LEFT = "campaign_left"
    WON = "won"
    LOST = "lost"
    NOTE = "note"
    CAMPAIGN_POINTS = "campaign_points"
    POINTS_ADJUSTED = "points_adjusted"
    # Events that carry their own points ({"points": n, "reason": ..., "category": ...})
    # instead of getting them from a rule.
    EXPLICIT_POINTS = frozenset({CAMPAIGN_POINTS, POINTS_ADJUSTED})

    # What we did to the lead, as opposed to what the lead did: these do not move its
    # last touch.
    OUR_ACTIONS = frozenset({LEAD_UPDATED, ASSIGNED, STAGE_CHANGED, SCORE_CHANGED, EMAIL_SENT,
                             CAMPAIGN_ENTERED, CAMPAIGN_LEFT, CAMPAIGN_POINTS, POINTS_ADJUSTED,
                             WON, LOST, NOTE})


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

    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="events")
    visitor_id = models.CharField(max_length=64, blank=True, db_index=True)
    type = models.CharField(_("type"), max_length=60)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.SYSTEM)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    # Replaying a batch with the same keys stores nothing new.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False),
                                    name="event_idempotency_key_unique"),
        ]
        indexes = [
            models.Index(fields=["lead", "-occurred_at"], name="event_lead_time_idx"),
            models.Index(fields=["type", "occurred_at"], name="event_type_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M}"
