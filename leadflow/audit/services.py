"""Recording and reading the audit log. Entries are only ever added."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import may_read_audit_log
from leadflow.audit.context import current_request
from leadflow.audit.models import AuditEntry
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput
from leadflow.core.http import client_ip

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# Security events also go to this logger, for a SIEM or the system journal.
security_log = logging.getLogger("leadflow.security")


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)  # a file's name, any other value as its text


def plain(value: Any) -> Any:
    """A model value as JSON (dates as ISO text, decimals as text, files as their name)."""
    return json.loads(json.dumps(value, cls=_Encoder))


def record(kind: str, action: str, *, obj: Any = None, object_type: str = "",
           object_repr: str = "", changes: dict | None = None,
           actor: User | None = None, actor_label: str = "") -> AuditEntry:
    """Append an entry. The actor and client address default to the current request's
    (leadflow.audit.context); outside a request the actor is Leadflow itself."""
    request = current_request()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_repr = object_repr or str(obj)
    entry = AuditEntry.objects.create(
        at=clock.now(), kind=kind, action=action, actor=actor,
        actor_label=(actor_label or (actor.get_username() if actor else "Leadflow"))[:150],
        object_type=object_type[:60], object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_repr[:200], changes=plain(changes or {}),
        ip=(client_ip(request) or None) if request is not None else None)
    if kind == AuditEntry.Kind.SECURITY:
        security_log.warning("%s actor=%s object=%s ip=%s", action, entry.actor_label,
                             entry.object_repr, entry.ip or "-")
    return entry


def entries_for(user: User, *, kind: str = "") -> QuerySet[AuditEntry]:
    """The audit log as `user` may read it: admins only."""
    if not may_read_audit_log(user):
        raise Forbidden(_("Only administrators may read the audit log."))
    entries = AuditEntry.objects.all()
    if kind:
        if kind not in AuditEntry.Kind.values:
            raise InvalidInput(_("kind must be one of %(choices)s.")
                               % {"choices": ", ".join(AuditEntry.Kind.values)},
                               field="kind")
        entries = entries.filter(kind=kind)
    return entries
