from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadflow.leads.stages import Stage


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    ORGANIC_SEARCH = "organic_search", _("Organic search")
    PAID_SEARCH = "paid_search", _("Paid search")
    SOCIAL = "social", _("Social")
    EMAIL = "email", _("Email")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event / trade show")
    PHONE = "phone", _("Phone")
    FIELD = "field", _("Field prospecting")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


class Timing(models.TextChoices):
    """The T of BANT: seed 003 splits leads at a purchase within 12 months."""

    WITHIN_12_MONTHS = "within_12_months", _("Within 12 months")
    LATER = "later", _("Later than 12 months")


BANT_FIELDS = ("budget", "authority", "need", "timing")


def meets_bant(budget: bool | None, authority: bool | None, need: bool | None,
               timing: str) -> bool:
    """Lead.meets_bant on bare values (set-based readers hold rows, not instances)."""
    return (budget is True and authority is True and need is True
            and timing == Timing.WITHIN_12_MONTHS)


class Category(models.TextChoices):
    """The score categories; each has its total in a Lead column (CATEGORY_FIELD)."""

    FIT = "fit", _("Fit (who they are)")
    ENGAGEMENT = "engagement", _("Engagement (what they do)")
    INTEREST = "interest", _("Interest (what they said)")


CATEGORY_FIELD = {
    Category.FIT: "fit_score",
    Category.ENGAGEMENT: "engagement_score",
    Category.INTEREST: "interest_score",
}


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=200, blank=True, db_index=True)
    size = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomFieldDefinition(models.Model):
    """Declares a key allowed in Lead.custom, with its type and label."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        BOOLEAN = "boolean", _("Yes/no")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(_("key"), max_length=60, unique=True)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # The label in other languages ({"fr": "Taille de l'équipe"}), as a form question gives
    # it; `label` is shown where a language has none.
    labels = models.JSONField(_("label per language"), default=dict, blank=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.shown_label()

    def shown_label(self, language: str | None = None) -> str:
        """The label in `language` (default: the active one), else the default label."""
        from django.utils.translation import get_language

        code = (language or get_language() or "").split("-")[0]
        translated = self.labels.get(code) if isinstance(self.labels, dict) else None
        return str(translated or self.label)


class Lead(models.Model):
    email = models.EmailField(_("email"), max_length=254, null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    company = models.ForeignKey(Company, verbose_name=_("company"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="leads")
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    # Where it came from: the first touch is kept forever, the last one follows the lead.
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices,
                               default=Channel.OTHER)
    source = models.CharField(_("source"), max_length=100, blank=True)
    medium = models.CharField(_("medium"), max_length=100, blank=True)
    campaign = models.CharField(_("campaign"), max_length=150, blank=True)
    first_touch = models.JSONField(_("first touch"), default=dict, blank=True)
    last_touch = models.JSONField(_("last touch"), default=dict, blank=True)
    first_touch_at = models.DateTimeField(_("first touch at"), null=True, blank=True)
    last_touch_at = models.DateTimeField(_("last touch at"), null=True, blank=True)

    # Not indexed alone: lead_owner_score_idx starts with it.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="leads",
                              db_index=False)
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="leads")
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices,
                             default=Stage.LEAD)
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True)
    # Kept in step with the stage by every stage write (lifecycle), so that "open leads
    # first, hottest first" reads one index (lead_open_score_idx) in order.
    is_closed = models.BooleanField(_("closed"), default=False)
    # Derived from the score ledger (scoring.ScoreEntry); recomputable at any time.
    score = models.IntegerField(_("score"), default=0)
    fit_score = models.IntegerField(_("fit"), default=0)
    engagement_score = models.IntegerField(_("engagement"), default=0)
    interest_score = models.IntegerField(_("interest"), default=0)
    # The fit grade (A to D) of the primary score group; blank until graded.
    grade = models.CharField(_("fit grade"), max_length=1, blank=True)

    # BANT (seed 003): None is unknown. Filled from forms, assessment answers or by the rep.
    budget = models.BooleanField(_("budget"), null=True, blank=True,
                                 help_text=_("Has a budget for the purchase"))
    authority = models.BooleanField(_("authority"), null=True, blank=True,
                                    help_text=_("Can decide, or is the decision maker"))
    need = models.BooleanField(_("need"), null=True, blank=True,
                               help_text=_("Has a need our product meets"))
    timing = models.CharField(_("timing"), max_length=20, choices=Timing.choices, blank=True,
                              help_text=_("When the purchase is planned"))

    do_not_email = models.BooleanField(_("do not email"), default=False)
    do_not_call = models.BooleanField(_("do not call"), default=False)
    marketing_consent = models.BooleanField(_("consents to marketing"), default=False)

    # Data quality (leadflow.leads.quality): the flag codes, and whether there is any. The
    # boolean is what lists filter on (an index that works on SQLite and PostgreSQL alike);
    # one flag is found with quality_flags__icontains='"invalid_phone"' on both.
    quality_flags = models.JSONField(_("data quality flags"), default=list, blank=True)
    contact_data_incorrect = models.BooleanField(_("contact data incorrect"), default=False)
    # Duplicate detection keys (leadflow.leads.dedupe), kept in step by save paths.
    email_domain = models.CharField(
        _("email domain"), max_length=200, blank=True,
        help_text=_("Company domain of the email; empty for free mail"))
    name_key = models.CharField(_("name key (for duplicates)"), max_length=200, blank=True)
    # An erased person leaves an anonymous tombstone so past reports keep their totals.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=Q(email__isnull=False),
                                    name="lead_email_unique"),
            models.UniqueConstraint(fields=["external_id"],
                                    condition=Q(external_id__isnull=False),
                                    name="lead_external_id_unique"),
        ]
        indexes = [
            # The work list: open leads first, hottest first (leads.services.search_leads).
            models.Index(fields=["is_closed", "-score", "-id"], name="lead_open_score_idx"),
            models.Index(fields=["owner", "-score"], name="lead_owner_score_idx"),
            models.Index(fields=["stage", "-score"], name="lead_stage_score_idx"),
            models.Index(fields=["source"], name="lead_source_idx"),
            models.Index(fields=["phone"], name="lead_phone_idx"),
            # Compared for equality only: no LIKE index beside it (db_index adds one on
            # PostgreSQL), one index fewer to write per lead.
            models.Index(fields=["email_domain"], name="lead_email_domain_idx"),
            # Lists look for the leads with problems, a minority; "no problem" is most
            # rows, which no index helps to find.
            models.Index(fields=["contact_data_incorrect"],
                         condition=Q(contact_data_incorrect=True),
                         name="lead_contact_incorrect_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def points_by_category(self) -> dict[str, int]:
        return {c.value: getattr(self, CATEGORY_FIELD[c]) for c in Category}

    @property
    def bant_known(self) -> int:
        """How many of budget, authority, need and timing are known (0 to 4)."""
        return sum(1 for name in BANT_FIELDS if getattr(self, name) not in (None, ""))

    @property
    def meets_bant(self) -> bool:
        """All four known and positive: a short-term lead for sales; otherwise a lead to
        nurture (seed 003)."""
        return meets_bant(self.budget, self.authority, self.need, self.timing)

    @property
    def phone_display(self) -> str:
        """An E.164 number grouped for reading ("+33 1 23 45 67 89"); else as stored."""
        if not self.phone.startswith("+"):
            return self.phone
        import phonenumbers

        try:
            number = phonenumbers.parse(self.phone)
        except phonenumbers.NumberParseException:
            return self.phone
        return phonenumbers.format_number(number,
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    @property
    def display_name(self) -> str:
        if self.erased_at:
            return str(_("Erased lead #%(id)s") % {"id": self.pk})
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.external_id or f"Lead #{self.pk}"


class LeadSearch(models.Model):
    """PostgreSQL's search copy of a lead's email, names and company, upper case in one
    text with its trigram index, kept in step by triggers (migration 0007; a lead's
    deletion cascades in the database). The index lives here rather than on the lead rows
    so that a score write, which touches every lead index, has four fewer (GIN) to update.
    Empty on SQLite, whose search reads the lead columns."""

    # The foreign key, ON DELETE CASCADE, is the migration's: Django's on_delete variants
    # may not mix database and Python cascades along Lead's references.
    lead = models.OneToOneField(Lead, primary_key=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    text = models.TextField(_("search text"))

    class Meta:
        verbose_name = _("lead search text")
        verbose_name_plural = _("lead search texts")
        db_table = "leads_leadsearch"
        default_permissions = ()

    def __str__(self) -> str:
        return f"search text of lead #{self.pk}"


class Consent(models.Model):
    """The consent ledger: every grant and withdrawal, with its proof. Append-only."""

    class Action(models.TextChoices):
        GRANTED = "granted", _("granted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    lead = models.ForeignKey(Lead, verbose_name=_("lead"), on_delete=models.CASCADE,
                             related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=50, default="marketing_email")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    text = models.TextField(_("text shown"), blank=True)
    text_version = models.CharField(_("text version"), max_length=40, blank=True)
    method = models.CharField(_("how"), max_length=40, help_text=_("form, api, import, "
                              "unsubscribe link, ui"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    page_url = models.URLField(_("page URL"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.action} ({self.method})"


class DuplicateSuggestion(models.Model):
    """Two leads that are probably one person, for a person to merge or dismiss."""

    class Reason(models.TextChoices):
        SAME_PHONE = "same_phone", _("Same phone number")
        SAME_COMPANY_NAME = "same_company_name", _("Same company domain and similar name")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        MERGED = "merged", _("merged")
        DISMISSED = "dismissed", _("not duplicates")

    # lead_a.id < lead_b.id, so a pair has one row.
    lead_a = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    lead_b = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    score = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-score", "-id"]
        constraints = [models.UniqueConstraint(fields=["lead_a", "lead_b"],
                                               name="duplicate_pair_unique")]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_status_idx")]

    def __str__(self) -> str:
        return f"#{self.lead_a_id} ~ #{self.lead_b_id} ({self.reason})"


class LeadMerge(models.Model):
    """The audit of one merge: which values came from where, the rows moved, and a
    snapshot of the merged-away lead, enough to undo it."""

    kept = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="merges")
    merged_lead_id = models.BigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField()
    sources = models.JSONField(default=dict)  # field -> "kept" | "merged"
    kept_before = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)  # "app.Model" -> [ids]
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead merge")
        verbose_name_plural = _("lead merges")
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.merged_lead_id} into #{self.kept_id}"


class ErasureRecord(models.Model):
    """That a person was erased, when and by whom: no personal data of theirs."""

    lead_id = models.BigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    erased_at = models.DateTimeField()
    deleted = models.JSONField(default=dict)  # "app.Model" -> rows removed

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"lead #{self.lead_id} erased {self.erased_at:%Y-%m-%d}"
