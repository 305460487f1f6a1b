from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from leadflow.leads.stages import Stage


class StageDefinition(models.Model):
    """A lifecycle stage and its written definition, in English and French (seed 003: both
    teams read the same definition). The defaults are those of `leads.stages`; admins edit
    names, definitions and flags. Read through `lifecycle.stages.definitions()` (cached)."""

    class Kind(models.TextChoices):
        FUNNEL = "funnel", _("Funnel")
        DETOUR = "detour", _("Detour")

    class Team(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SALES = "sales", _("Sales")

    class Reset(models.TextChoices):
        NONE = "", _("Keep the score")
        ENGAGEMENT = "engagement", _("Reset engagement to 0")
        ALL = "all", _("Reset the whole score to 0")

    slug = models.SlugField(_("short name"), max_length=20, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60)
    name_fr = models.CharField(_("name (French)"), max_length=60, blank=True)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    definition_fr = models.TextField(_("definition (French)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices, default=Kind.FUNNEL)
    is_handoff = models.BooleanField(
        _("hand-off to sales"), default=False,
        help_text=_("Reaching this stage, or any later funnel stage, hands the lead to "
                    "sales once: assignment, then the owner's notification."))
    is_closed = models.BooleanField(_("closed"), default=False)
    # Marketing may move leads between its own stages; sales own the rest.
    owned_by = models.CharField(_("owned by"), max_length=10, choices=Team.choices,
                                default=Team.MARKETING)
    # How a rejected hand-off leaves the score (a setting of the hand-off stage).
    reject_reset = models.CharField(_("score on rejection"), max_length=10,
                                    choices=Reset.choices, blank=True, default=Reset.ENGAGEMENT)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the reader's language (English when no French name is written)."""
        if translation.get_language() == "fr" and self.name_fr:
            return self.name_fr
        return self.name_en

    @property
    def definition(self) -> str:
        if translation.get_language() == "fr" and self.definition_fr:
            return self.definition_fr
        return self.definition_en


class QualificationReason(models.Model):
    """Why sales rejected a hand-off or a lead was disqualified (seed 003); reports count
    them by code. "Other" asks for a note."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_fr = models.CharField(_("label (French)"), max_length=120, blank=True)
    needs_note = models.BooleanField(_("asks for a note"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("qualification reason")
        verbose_name_plural = _("qualification reasons")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if translation.get_language() == "fr" and self.label_fr:
            return self.label_fr
        return self.label_en


class TransitionKind(models.TextChoices):
    SCORE = "score", _("Score at least")
    GRADE = "grade", _("Fit grade at least")
    BANT = "bant", _("BANT met")
    CONTENT = "content", _("High-intent content consumed")
    EVENT = "event", _("An event")


class ContentKind(models.TextChoices):
    PAGE = "page", _("A page (URL pattern)")
    FORM = "form", _("A form")
    DOWNLOAD = "download", _("A download (URL pattern)")


# The event type each kind of content is consumed through, and the property matched.
CONTENT_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    ContentKind.PAGE: ("page_view", ("url", "path")),
    ContentKind.FORM: ("form_submitted", ("form",)),
    ContentKind.DOWNLOAD: ("download", ("url",)),
}


class StageThreshold(models.Model):
    """A transition rule: a lead in one of `from_stages` (empty: subscriber, lead or
    nurture) that meets the rule moves to `stage`. Kinds: a score threshold of a score group
    (empty: the primary group), a fit grade threshold, BANT met, high-intent content
    consumed (HMQL, seed 004), an event (a demo request straight to SQL).

    The historical name is kept: the first rules were score thresholds."""

    kind = models.CharField(_("kind"), max_length=8, choices=TransitionKind.choices,
                            default=TransitionKind.SCORE)
    stage = models.CharField(_("target stage"), max_length=20)
    from_stages = models.JSONField(
        _("from stages"), default=list, blank=True,
        help_text=_("Stages it may move a lead out of; empty: subscriber, lead, nurture."))
    group = models.ForeignKey("scoring.ScoreGroup", verbose_name=_("score group"), null=True,
                              blank=True, on_delete=models.CASCADE, related_name="+",
                              help_text=_("Empty: the primary score group."))
    min_score = models.IntegerField(_("minimum score"), null=True, blank=True)
    min_grade = models.CharField(_("minimum grade"), max_length=1, blank=True)
    event_type = models.CharField(_("event type"), max_length=60, blank=True)
    content_kind = models.CharField(_("content"), max_length=8, choices=ContentKind.choices,
                                    blank=True)
    pattern = models.CharField(
        _("pattern"), max_length=300, blank=True,
        help_text=_("A URL pattern (* matches anything) or a form's short name."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage threshold")
        verbose_name_plural = _("stage thresholds")
        ordering = ["kind", "min_score", "id"]

    def __str__(self) -> str:
        if self.kind == TransitionKind.SCORE:
            return f"{self.stage} ≥ {self.min_score}"
        return f"{self.stage} ← {self.get_kind_display()}"


class StageChange(models.Model):
    """The stage history of a lead: one row per stay in a stage, entered at `changed_at` and
    left at `exited_at` (empty while the lead is there), for velocity reports."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE,
                             related_name="stage_changes")
    # The choices are the default stages (their labels); any defined stage is stored.
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    reason = models.CharField(max_length=300, blank=True)
    # Why a rule moved it ("score", "grade", "bant", "content", "event", "rule_change"),
    # or "manual", "rejection", "import".
    cause = models.CharField(_("cause"), max_length=20, blank=True)
    qualification_reason = models.ForeignKey(
        QualificationReason, verbose_name=_("qualification reason"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    exited_at = models.DateTimeField(_("left at"), null=True, blank=True)

    # Erasure keeps the rows (reports count stage changes) and blanks these fields
    # (leads.privacy reads it: leads stands below lifecycle).
    ERASURE_BLANKS = ("reason", "note")

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} -> {self.to_stage}"


class Handoff(models.Model):
    """A lead handed to sales (it reached the hand-off stage or jumped past it): at most one
    open (pending or accepted) per lead; a rejection closes it, and a lead that qualifies
    again after its recycling is handed off again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for sales")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    lead = models.ForeignKey("leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="handoffs")
    stage_change = models.ForeignKey(StageChange, verbose_name=_("stage change"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    created_at = models.DateTimeField(_("handed off at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    qualification_reason = models.ForeignKey(
        QualificationReason, verbose_name=_("qualification reason"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead"], condition=~models.Q(status="rejected"),
                                    name="handoff_one_open_per_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.status}"
