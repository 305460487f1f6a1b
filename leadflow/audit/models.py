from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The actions Leadflow records, stored as codes, shown in the reader's language.
ACTIONS = {
    "created": pgettext_lazy("audit action", "created"),
    "changed": pgettext_lazy("audit action", "changed"),
    "deleted": pgettext_lazy("audit action", "deleted"),
    "login": pgettext_lazy("audit action", "signed in"),
    "login_failed": pgettext_lazy("audit action", "sign-in failed"),
    "locked_out": pgettext_lazy("audit action", "locked out"),
    "token_created": pgettext_lazy("audit action", "API token created"),
    "token_revoked": pgettext_lazy("audit action", "API token revoked"),
    "role_changed": pgettext_lazy("audit action", "role changed"),
}


class AuditEntry(models.Model):
    """One configuration change or security event: append-only, readable by admins."""

    class Kind(models.TextChoices):
        CONFIG = "config", _("Configuration")
        SECURITY = "security", _("Security")

    at = models.DateTimeField(_("when"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # e.g. created, changed, deleted, login_failed, locked_out, login, token_created,
    # token_revoked, role_changed.
    action = models.CharField(_("action"), max_length=30)
    # Kept as text too: the entry must outlive the user who acted (or was acted on).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True,
                              blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(_("who"), max_length=150, blank=True)
    object_type = models.CharField(_("what"), max_length=60, blank=True)
    object_id = models.CharField(_("object ID"), max_length=40, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # {field: [before, after]} for a change; {field: value} for a creation or deletion.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["kind", "-at"], name="audit_kind_at")]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, self.action))

    def object_type_label(self) -> str:
        """The model's name ("scoring rule") for its label ("scoring.ScoreRule")."""
        try:
            return str(apps.get_model(self.object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            return self.object_type
