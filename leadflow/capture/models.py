from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Form(models.Model):
    """A hosted capture form. Submitting it creates or updates a lead and records a
    `form_submitted` event (plus `event_type`, e.g. newsletter_signup, when set)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    event_type = models.CharField(_("extra event"), max_length=60, blank=True,
                                  help_text=_("e.g. newsletter_signup or demo_requested"))
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=40, blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    channel = models.CharField(_("channel"), max_length=20, default="web")
    source = models.CharField(_("source"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("form")

    def __str__(self) -> str:
        return self.name
