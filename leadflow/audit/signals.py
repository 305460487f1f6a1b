"""Configuration changes and security events, recorded without touching each service:
model signals on the configuration models, and Django's and axes' login signals.

Writes that bypass `save()` (queryset.update, bulk_create) are not seen; configuration
is edited one row at a time, through forms and services that save.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save

from leadflow.audit import services
from leadflow.audit.models import AuditEntry

# model label -> the fields recorded (None: every concrete field). Secrets (password,
# token digest) and bookkeeping (last use, counters) are never recorded.
TRACKED: dict[str, tuple[str, ...] | None] = {
    "scoring.ScoreRule": None,
    "scoring.ScoreGroup": None,
    "lifecycle.StageThreshold": None,
    "lifecycle.StageDefinition": None,
    "lifecycle.QualificationReason": None,
    "capture.Form": None,
    "capture.FormField": None,
    "routing.RoutingRule": None,
    "campaigns.Campaign": None,
    "campaigns.Step": None,
    "emails.EmailTemplate": None,
    "emails.Topic": None,
    "emails.SenderIdentity": None,
    "emails.FrequencyCap": None,
    "emails.EmailTemplateVersion": None,
    "accounts.Team": None,
    "accounts.User": ("username", "email", "role", "team", "is_active", "is_staff",
                      "is_superuser", "accepts_leads"),
    "accounts.ApiToken": ("user", "name", "prefix", "scope", "expires_at", "revoked"),
}
_IGNORED = {"created_at", "updated_at", "last_login", "last_assigned_at", "last_used_at",
            "password", "digest"}

CONFIG, SECURITY = AuditEntry.Kind.CONFIG, AuditEntry.Kind.SECURITY


def _values(instance: Any) -> dict[str, Any]:
    names = TRACKED[instance._meta.label]
    values = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.name in _IGNORED:
            continue
        if names is not None and field.name not in names:
            continue
        values[field.name] = services.plain(field.value_from_object(instance))
    return values


def _skipped(instance: Any, update_fields: Any) -> bool:
    """A save naming only unrecorded fields (a user's last login, a rep's last
    assignment) is not a configuration change: no read, no entry."""
    if not update_fields:
        return False
    names = TRACKED[instance._meta.label]
    recorded = set(update_fields) - _IGNORED
    return not (recorded & set(names)) if names is not None else not recorded


def _before(sender: Any, instance: Any, raw: bool = False, update_fields: Any = None,
            **kwargs: Any) -> None:
    # One read per saved configuration row: these are edited by people, not in bulk.
    instance._audit_before = None
    instance._audit_skip = _skipped(instance, update_fields)
    if not raw and not instance._audit_skip and instance.pk is not None:
        old = sender._default_manager.filter(pk=instance.pk).first()
        instance._audit_before = _values(old) if old is not None else None


def _after(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or getattr(instance, "_audit_skip", False):
        return
    now = _values(instance)
    before = getattr(instance, "_audit_before", None)
    label = sender._meta.label
    if created or before is None:
        if label == "accounts.ApiToken":
            services.record(SECURITY, "token_created", obj=instance, changes=now)
        else:
            services.record(CONFIG, "created", obj=instance, changes=now)
        return
    changes = {k: [before.get(k), v] for k, v in now.items() if before.get(k) != v}
    if not changes:
        return
    services.record(CONFIG, "changed", obj=instance, changes=changes)
    if label == "accounts.User" and changes.keys() & {"role", "is_superuser", "is_staff"}:
        services.record(SECURITY, "role_changed", obj=instance, changes=changes)
    if label == "accounts.ApiToken" and changes.get("revoked") == [False, True]:
        services.record(SECURITY, "token_revoked", obj=instance)


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    services.record(CONFIG, "deleted", obj=instance, changes=_values(instance))


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    services.record(SECURITY, "login", obj=user, actor=user)


def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    # Only the username tried: never the password.
    services.record(SECURITY, "login_failed", object_type="accounts.User",
                    object_repr=str(credentials.get("username", ""))[:200],
                    actor_label=str(credentials.get("username", "")))


def _locked_out(sender: Any, request: Any, username: str | None = None,
                ip_address: str | None = None, **kwargs: Any) -> None:
    services.record(SECURITY, "locked_out", object_type="accounts.User",
                    object_repr=username or "", actor_label=username or "",
                    changes={"ip_address": ip_address})


def connect() -> None:
    for label in TRACKED:
        model = apps.get_model(label)
        uid = f"audit:{label}"
        pre_save.connect(_before, sender=model, dispatch_uid=uid)
        post_save.connect(_after, sender=model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid)
    user_logged_in.connect(_logged_in, dispatch_uid="audit:login")
    user_login_failed.connect(_login_failed, dispatch_uid="audit:login_failed")
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="audit:locked_out")
