from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MARKETING = "marketing", _("Marketing")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices,
                            default=Role.SALES_REP)
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="members")
    # Round-robin routing hands the next lead to the active rep who waited longest.
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    accepts_leads = models.BooleanField(_("accepts new leads"), default=True)
    # An IANA name ("Europe/Paris"); empty: the installation's (LEADFLOW_TIME_ZONE). Pages
    # show times, and count "today" and "this week", in it (accounts.middleware).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    @property
    def sees_all_leads(self) -> bool:
        from leadflow.accounts.permissions import sees_all_leads

        return sees_all_leads(self)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenScope(models.TextChoices):
    # What each scope permits is decided in accounts.permissions.token_permits.
    FULL = "full", _("Full (everything the user may do)")
    READ = "read", _("Read only")
    INGEST = "ingest", _("Ingest only (events and leads in, nothing out)")


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, default="api")
    prefix = models.CharField(_("prefix"), max_length=12,
                              help_text=_("first characters, to recognise it"))
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)
    scope = models.CharField(_("scope"), max_length=10, choices=TokenScope.choices,
                             default=TokenScope.FULL)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate() -> str:
        return "lf_" + secrets.token_urlsafe(32)
