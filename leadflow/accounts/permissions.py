"""Who may do what: the one module that views, the API, the admin, exports and services ask.

Every write names its actor: a signed-in user, an API token (its user, within the token's
limits), or a named public channel (a form, the tracking snippet) that is not a person
and sees no lead. Lead scope is expressed as a `Q` on the lead's own columns (owner,
team), so this module needs no import of the leads app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from leadflow.accounts.models import Role, TokenScope

if TYPE_CHECKING:
    from leadflow.accounts.models import User


@dataclass(frozen=True)
class Actor:
    """Who is writing. Exactly one of `user` or `channel` is set, or neither (Leadflow
    itself: the worker, a campaign step, a migration).

    `channel` names a public way in ("form:<slug>", "tracking:<site key>"): it may create
    leads and fill their empty fields, never overwrite a non-empty one, unless `trusted`
    (the site proved the visitor's identity, e.g. a signed identify).
    """

    user: User | None = None
    channel: str = ""
    trusted: bool = False

    @classmethod
    def system(cls) -> Actor:
        return cls()

    @classmethod
    def public(cls, channel: str, *, trusted: bool = False) -> Actor:
        return cls(channel=channel, trusted=trusted)

    @classmethod
    def of(cls, who: User | Actor | None) -> Actor:
        """An Actor from what callers hold: a user, an Actor, or None (Leadflow)."""
        if isinstance(who, Actor):
            return who
        return cls(user=who)

    @property
    def is_public(self) -> bool:
        return bool(self.channel)

    @property
    def fills_only(self) -> bool:
        """Whether this actor may only fill empty fields of an existing lead."""
        return self.is_public and not self.trusted

    def __str__(self) -> str:
        if self.user is not None:
            return str(self.user)
        return self.channel or "Leadflow"


def sees_all_leads(user: User) -> bool:
    return user.is_superuser or user.role in (Role.ADMIN, Role.MARKETING)


def lead_scope(user: User) -> Q | None:
    """The leads `user` may see and change, as a filter on the lead table; None means all
    of them. Admins and marketing: all; a sales manager: the team's and their own; a rep:
    their own."""
    if sees_all_leads(user):
        return None
    if user.role == Role.SALES_MANAGER and user.team_id:
        return Q(team_id=user.team_id) | Q(owner_id=user.pk)
    return Q(owner_id=user.pk)


def may_change_lead(actor: Actor, *, owner_id: int | None, team_id: int | None) -> bool:
    """Whether `actor` may change the lead owned by `owner_id` in `team_id`. Leadflow and
    public channels may (public channels only fill empty fields, see Actor.fills_only)."""
    user = actor.user
    if user is None:
        return True
    if sees_all_leads(user):
        return True
    if user.role == Role.SALES_MANAGER and user.team_id:
        return team_id == user.team_id or owner_id == user.pk
    return owner_id == user.pk


# What an ingest-only token may call: (method, route under /api/v1/). Its answers are cut
# to ids and statuses (leadflow.core.api), so it can push leads and events in but never
# read a lead out.
INGEST_ROUTES = frozenset({("POST", "leads"), ("POST", "leads/bulk"), ("POST", "events")})
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_permits(scope: str, method: str, route: str) -> bool:
    """Whether a token of `scope` may make this API call (on top of what its user may)."""
    if scope == TokenScope.READ:
        return method in _READ_METHODS
    if scope == TokenScope.INGEST:
        return (method, route.strip("/")) in INGEST_ROUTES
    return True
