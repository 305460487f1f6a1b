"""Dynamic segments: a filter over leads (segments.filters), its current members, the
manual overrides that survive rebuilds, and the history of who entered and left when.

Membership is derived state: `rebuild` recomputes it from the filter and the overrides,
in the background (segments.builds: a Segment is its own work row, claimed through
core.workqueue); the event pipeline and the periodic jobs keep it current in between
(segments.services).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadflow.core.workqueue import WorkItem


class Segment(WorkItem):
    """A segment, and the state of its full rebuild: `building` from its creation (or a
    new filter, or "rebuild now") until a worker has rebuilt it (`build_due_at` due,
    claimed through core.workqueue), then `built`; `failed` when its last attempt
    failed (`build_error`)."""

    class BuildState(models.TextChoices):
        BUILDING = "building", _("Building")
        BUILT = "built", _("Built")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    # The filter tree (docs/segments.md), as validated by segments.filters.validate.
    filter = models.JSONField(_("filter"), default=dict, blank=True)
    active = models.BooleanField(
        _("active"), default=True,
        help_text=_("An inactive segment keeps its members but is no longer kept current."))
    # Derived from the filter when it is saved: whether membership can change with no
    # event at all (a time window, "inactive for", "not opened in"), so the clock job
    # looks at it; and the segments it reads, to evaluate those first.
    time_dependent = models.BooleanField(_("depends on time"), default=False)
    reads_segments = models.JSONField(_("segments it reads"), default=list, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    last_rebuilt_at = models.DateTimeField(_("last rebuilt"), null=True, blank=True)
    # Until when the clock job has looked at windows that expire (time-dependent only).
    time_checked_at = models.DateTimeField(_("time windows checked until"), null=True,
                                           blank=True)
    build_state = models.CharField(_("build"), max_length=10, choices=BuildState.choices,
                                   default=BuildState.BUILDING)
    # Since when the pending rebuild was asked for (shown as "building since").
    build_requested_at = models.DateTimeField(_("rebuild asked at"), null=True, blank=True)
    # When a worker should rebuild it (the claim's lease while one does); null when no
    # rebuild is pending.
    build_due_at = models.DateTimeField(_("rebuild due at"), null=True, blank=True)
    build_error = models.TextField(_("why the rebuild failed"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    work_due_field = "build_due_at"
    work_error_field = "build_error"
    max_attempts = 3

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        indexes = [models.Index(fields=["build_due_at"],
                                condition=models.Q(build_due_at__isnull=False),
                                name="segment_build_due_idx")]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A lead in a segment now, once. Hidden from Lead's relations (`+`): a merge or an
    erasure does not move or delete these rows behind the count's back; the segments app
    settles them itself (services.on_merging, erasure.forget_memberships)."""

    # The unique constraint's index leads with the segment: "members of a segment".
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members",
                                db_index=False)
    # Its own index: "segments of a lead".
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(_("member since"))
    # Kept in by a manual include (it may not match the filter).
    manual = models.BooleanField(_("added by hand"), default=False)

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [models.UniqueConstraint(fields=["segment", "lead"],
                                               name="segment_member_unique")]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.segment_id}"


class SegmentOverride(models.Model):
    """A person's (or a campaign action's) decision about one lead: always in the segment
    (`include`), or never (`include` false), whatever the filter says; rebuilds keep it."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="overrides",
                                db_index=False)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    include = models.BooleanField(_("include"))
    by = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("segment override")
        verbose_name_plural = _("segment overrides")
        constraints = [models.UniqueConstraint(fields=["segment", "lead"],
                                               name="segment_override_unique")]

    def __str__(self) -> str:
        return f"{self.lead_id} {'in' if self.include else 'out of'} {self.segment_id}"


class SegmentChange(models.Model):
    """Membership history: a lead entered or left a segment, when and why. About the
    person: part of their data export, deleted by their erasure (a Lead relation)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="changes",
                                db_index=False)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE,
                             related_name="segment_changes", db_index=False)
    entered = models.BooleanField(_("entered"))
    at = models.DateTimeField(_("at"))
    # Stored in English ("filter", "rebuild", "added by alice"), shown through
    # leads.labels in the reader's language.
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        verbose_name = _("segment membership change")
        verbose_name_plural = _("segment membership changes")
        indexes = [models.Index(fields=["lead", "-at"], name="segment_change_lead_idx"),
                   models.Index(fields=["segment", "-at"], name="segment_change_seg_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} {'entered' if self.entered else 'left'} {self.segment_id}"


class DirtyLead(models.Model):
    """A lead whose memberships may have changed (an event, a lead write, a time window
    that expired), queued for the refresh job. Append-only, duplicates allowed: the
    pipeline's insert never waits for a refresh that is claiming (deleting) rows."""

    lead_id = models.BigIntegerField()
    # "event" or "time": what the history will say, should membership change.
    cause = models.CharField(max_length=8, default="event")

    class Meta:
        verbose_name = _("lead to re-evaluate")
        verbose_name_plural = _("leads to re-evaluate")
        default_permissions = ()

    def __str__(self) -> str:
        return f"lead #{self.lead_id} ({self.cause})"


class SegmentClock(WorkItem):
    """The one row the clock job is claimed through (core.workqueue): time windows of the
    time-dependent segments are looked at by one worker at a time, every CLOCK_EVERY."""

    name = models.CharField(max_length=20, unique=True, default="clock")
    due_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("segment clock")
        verbose_name_plural = _("segment clock")
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
