from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Form(models.Model):
    """A capture form. Submitting it creates or updates a lead and records a
    `form_submitted` event (plus `event_type`, e.g. newsletter_signup, when set).
    An assessment (kind "assessment", seed 003's "Smart Audit") also scores the answers
    of its weighted questions and shows the result band's recommendations (see
    leadflow.capture.assessment)."""

    class Kind(models.TextChoices):
        STANDARD = "standard", _("Form")
        ASSESSMENT = "assessment", _("Assessment (weighted answers, result page)")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    event_type = models.CharField(_("extra event"), max_length=60, blank=True,
                                  help_text=_("e.g. newsletter_signup or demo_requested"))
    # The current consent text and its version label; every text ever shown is kept in
    # FormConsentVersion (append-only), and the consent ledger records the label.
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=40, blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    redirect_url = models.URLField(_("redirect after submit"), max_length=500, blank=True)
    # Host names, one per line; "example.com" also allows its subdomains.
    allowed_domains = models.TextField(_("allowed redirect domains"), blank=True)
    lead_magnet = models.FileField(_("file to deliver"), upload_to="lead-magnets/", blank=True)
    progressive_profiling = models.BooleanField(_("progressive profiling"), default=False)
    double_opt_in = models.BooleanField(_("double opt-in"), default=False)
    channel = models.CharField(_("channel"), max_length=20, default="web")
    source = models.CharField(_("source"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    submit_label = models.CharField(_("submit button"), max_length=60, blank=True,
                                    help_text=_("Empty: “Send” in the visitor's language."))
    # Reads phone numbers typed without a country prefix ("06 12 34 56 78"), when the form
    # has no country field answered; empty: the installation's LEADFLOW_DEFAULT_COUNTRY.
    default_country = models.CharField(_("default country"), max_length=2, blank=True)
    # The visitor-facing texts per language, {"fr": {"title": ..., "intro": ...}}; a text
    # missing there falls back to the form's own (see TEXTS and Form.text).
    translations = models.JSONField(_("texts per language"), default=dict, blank=True)
    kind = models.CharField(_("type of form"), max_length=20, choices=Kind.choices,
                            default=Kind.STANDARD)
    # An assessment's result bands, lowest first: [{"key", "min", "texts": {lang: {"title",
    # "recommendations": [...]}}}]; a score falls in the last band whose min it reaches.
    bands = models.JSONField(_("result bands"), default=list, blank=True)

    TEXTS = ("title", "intro", "consent_text", "thank_you", "submit_label")

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def text(self, name: str, lang: str | None) -> str:
        """The visitor-facing text `name` (one of TEXTS) in `lang` ("fr", "fr-ca"), else
        the form's own."""
        translations = self.translations if isinstance(self.translations, dict) else {}
        for code in dict.fromkeys(((lang or "").lower(), (lang or "").lower()[:2])):
            value = (translations.get(code) or {}).get(name) if code else None
            if isinstance(value, str) and value.strip():
                return value
        return str(getattr(self, name) or "")

    def texts(self, lang: str | None) -> dict[str, str]:
        return {name: self.text(name, lang) for name in self.TEXTS}

    def domains(self) -> list[str]:
        return [d.strip().lower().rstrip(".") for d in self.allowed_domains.split()
                if d.strip()]


class FormField(models.Model):
    """One question of a form, mapped to a lead field or a declared custom field."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        SELECT = "select", _("Select")
        MULTI_SELECT = "multi-select", _("Multi-select")
        CHECKBOX = "checkbox", _("Checkbox")
        HIDDEN = "hidden", _("Hidden")
        TEXTAREA = "textarea", _("Text area")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")

    class LeadField(models.TextChoices):
        EMAIL = "email", _("Email")
        FIRST_NAME = "first_name", _("First name")
        LAST_NAME = "last_name", _("Last name")
        PHONE = "phone", _("Phone")
        TITLE = "title", _("Job title")
        COMPANY_NAME = "company_name", _("Company")
        COUNTRY = "country", _("Country")
        CITY = "city", _("City")
        BUDGET = "budget", _("Budget (BANT)")
        AUTHORITY = "authority", _("Authority (BANT)")
        NEED = "need", _("Need (BANT)")
        TIMING = "timing", _("Timing (BANT)")

    form = models.ForeignKey(Form, verbose_name=_("form"), on_delete=models.CASCADE,
                             related_name="fields")
    key = models.SlugField(_("key"), max_length=60)
    lead_field = models.CharField(_("lead field"), max_length=20, blank=True,
                                  choices=LeadField.choices)
    custom_field = models.ForeignKey("leads.CustomFieldDefinition", verbose_name=_("custom field"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.TEXT)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    labels = models.JSONField(_("labels"), default=dict, blank=True,
                              help_text=_('per language, e.g. {"en": "Company", "fr": "Société"}'))
    # Asked only by progressive profiling, in position order, in place of known fields.
    extra = models.BooleanField(_("progressive question"), default=False)
    # An assessment question's answers, each weighted and optionally setting lead fields:
    # [{"value", "points", "labels": {lang: text}, "sets": {"budget": true,
    # "custom.<key>": value, ...}}]. A question with answers needs no lead field.
    answers = models.JSONField(_("weighted answers"), default=list, blank=True)

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["form", "key"],
                                               name="form_field_key_unique")]

    def __str__(self) -> str:
        return self.key


class FormConsentVersion(models.Model):
    """Every consent text a form has shown, append-only: editing the text (in any language)
    adds a version, one row per language that has a text ("" is the form's own text)."""

    form = models.ForeignKey(Form, verbose_name=_("form"), on_delete=models.CASCADE,
                             related_name="consent_versions")
    version = models.CharField(_("version"), max_length=40)
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("consent text version")
        verbose_name_plural = _("consent text versions")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["form", "version", "language"],
                                               name="form_consent_version_lang_unique")]

    def __str__(self) -> str:
        return f"{self.form_id} {self.version} {self.language}".rstrip()


class FormRejection(models.Model):
    """Posts refused (spam, abuse, invalid), counted per form, reason and day."""

    form = models.ForeignKey(Form, verbose_name=_("form"), on_delete=models.CASCADE,
                             related_name="rejections")
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=30)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("refused submission")
        verbose_name_plural = _("refused submissions")
        ordering = ["-day", "reason"]
        constraints = [models.UniqueConstraint(fields=["form", "day", "reason"],
                                               name="form_rejection_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}: {self.count}"


class OptInRequest(models.Model):
    """A double opt-in confirmation sent to a lead; marketing waits for `confirmed_at`."""

    # Not indexed alone: optin_lead_idx starts with it.
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="optins",
                             db_index=False)
    form = models.ForeignKey(Form, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    page_url = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("opt-in confirmation request")
        verbose_name_plural = _("opt-in confirmation requests")
        indexes = [models.Index(fields=["lead", "confirmed_at"], name="optin_lead_idx")]

    def __str__(self) -> str:
        return f"opt-in {self.lead_id} ({'confirmed' if self.confirmed_at else 'pending'})"
