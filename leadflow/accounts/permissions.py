"""Who may do what: the one module that views, the API, the admin, exports and services ask.

Every write names its actor: a signed-in user, an API token (its user, within the token's
limits), or a named public channel (a form, the tracking snippet) that is not a person
and sees no lead. Lead scope is expressed as a `Q` on the lead's own columns (owner,
team), so this module needs no import of the leads app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Model, Q, QuerySet

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


def scoped[M: Model](leads: QuerySet[M], user: User) -> QuerySet[M]:
    """`leads` (rows of the lead table) cut to those `user` may see (`lead_scope`)."""
    scope = lead_scope(user)
    return leads if scope is None else leads.filter(scope)


def may_see_lead(user: User, *, owner_id: int | None, team_id: int | None) -> bool:
    """`lead_scope` for one lead whose owner and team are known (no query)."""
    if sees_all_leads(user):
        return True
    if user.role == Role.SALES_MANAGER and user.team_id:
        return team_id == user.team_id or owner_id == user.pk
    return owner_id == user.pk


def may_change_list(user: User, *, created_by_id: int | None) -> bool:
    """Renaming or deleting a static list of leads: its creator, admins and marketing.
    Its members are anyone's to change, for the leads they see (`lead_scope`)."""
    return sees_all_leads(user) or (user.is_active and created_by_id == user.pk)


def may_manage_retention(user: User) -> bool:
    """Who sees the leads due for erasure under the retention policy and confirms their
    erasure: administrators (the policy is the installation's, not a team's)."""
    return user.is_superuser or user.role == Role.ADMIN


def may_change_lead(actor: Actor, *, owner_id: int | None, team_id: int | None) -> bool:
    """Whether `actor` may change the lead owned by `owner_id` in `team_id`: a person, the
    leads they see; Leadflow and public channels, any (public channels only fill empty
    fields, see Actor.fills_only)."""
    if actor.user is None:
        return True
    return may_see_lead(actor.user, owner_id=owner_id, team_id=team_id)


def adds_own_leads(user: User) -> bool:
    """Whether a lead this person types in (quick add) becomes theirs, rather than going
    through routing: sales reps work what they bring."""
    return not user.is_superuser and user.role == Role.SALES_REP


def may_import(user: User) -> bool:
    """Imports bring in leads for everyone."""
    return sees_all_leads(user)


def may_export(user: User) -> bool:
    """Anyone may export the leads they see (as CSV); the export starts from
    `lead_scope`, so it holds nothing more than the list page shows."""
    return user.is_active


def may_erase(user: User) -> bool:
    """Erasure (GDPR right to be forgotten) cannot be undone: admins and marketing."""
    return sees_all_leads(user)


def may_assign_to(user: User, owner: User) -> bool:
    """Whether `user` may hand a lead they may change to `owner` by hand: admins and
    marketing to any active person; a sales manager to their team's members and
    themselves; a rep to nobody (leads come to them by routing or from their manager)."""
    if not owner.is_active:
        return False
    if sees_all_leads(user):
        return True
    if user.role == Role.SALES_MANAGER:
        return owner.pk == user.pk or (user.team_id is not None
                                       and owner.team_id == user.team_id)
    return False


def may_close_deals(user: User) -> bool:
    """Deals are sales' to close; marketing reads the outcome."""
    return user.is_superuser or user.role != Role.MARKETING


# What each role may do with each kind of configuration. Leads are not here: their
# scope is per lead (lead_scope). A superuser may do everything.
VIEW, CHANGE = "view", "change"
_ALL = frozenset(Role.values)
_MARKETERS = frozenset({Role.ADMIN, Role.MARKETING})
_ADMINS = frozenset({Role.ADMIN})
CONFIGURATION: dict[str, dict[str, frozenset[str]]] = {
    "scoring_rules": {VIEW: _ALL, CHANGE: _MARKETERS},
    "stages": {VIEW: _ALL, CHANGE: _MARKETERS},
    "forms": {VIEW: _MARKETERS, CHANGE: _MARKETERS},
    "tracking": {VIEW: _MARKETERS, CHANGE: _MARKETERS},
    "campaigns": {VIEW: _MARKETERS | {Role.SALES_MANAGER}, CHANGE: _MARKETERS},
    # Everyone sees segments (and, of their members, the leads they see).
    "segments": {VIEW: _ALL, CHANGE: _MARKETERS},
    "templates": {VIEW: _MARKETERS, CHANGE: _MARKETERS},
    # Delivery: bounce and complaint reports, deliverability rates.
    "email": {VIEW: _MARKETERS, CHANGE: _MARKETERS},
    "routing": {VIEW: _MARKETERS | {Role.SALES_MANAGER},
                CHANGE: _ADMINS | {Role.SALES_MANAGER}},
    "spend": {VIEW: _MARKETERS, CHANGE: _MARKETERS},
    "webhooks": {VIEW: _ADMINS, CHANGE: _ADMINS},
    "users": {VIEW: _ADMINS | {Role.SALES_MANAGER}, CHANGE: _ADMINS},
    # Others' tokens; each user manages their own.
    "tokens": {VIEW: _ADMINS, CHANGE: _ADMINS},
    # Kinds of marketing email: their names are no secret, marketing edits them.
    "email_topics": {VIEW: _ALL, CHANGE: _MARKETERS},
    # Addresses of people (leads or not, any owner): only those who see every lead.
    "suppression": {VIEW: _MARKETERS, CHANGE: _MARKETERS},
}


def may(user: User, action: str, kind: str) -> bool:
    """Whether `user` may `action` ("view" or "change") configuration of `kind` (a key
    of CONFIGURATION; an unknown kind raises KeyError, so a typo cannot grant access)."""
    roles = CONFIGURATION[kind][action]
    return user.is_superuser or (user.is_active and user.role in roles)


def may_manage_email(user: User) -> bool:
    """Who records bounce and complaint reports (which suppress addresses) and reads the
    deliverability rates: the `email` row of CONFIGURATION."""
    return may(user, CHANGE, "email")


def may_manage_segments(user: User) -> bool:
    """Who creates, changes, rebuilds and deletes segments and includes or excludes
    leads by hand: those who manage campaigns (the `segments` row of CONFIGURATION)."""
    return may(user, CHANGE, "segments")


def may_manage_campaigns(user: User) -> bool:
    """Who builds, edits, starts, pauses and archives campaigns and enrols leads by hand:
    the `campaigns` row of CONFIGURATION (admins and marketing)."""
    return may(user, CHANGE, "campaigns")


def may_view_campaigns(user: User) -> bool:
    """Who reads campaigns, their graph and statistics (sales managers too)."""
    return may(user, VIEW, "campaigns")


def may_read_audit_log(user: User) -> bool:
    """The audit log names who changed what and every sign-in: administrators only."""
    return user.is_superuser or user.role == Role.ADMIN


def may_manage_webhooks(user: User) -> bool:
    """Webhook subscriptions send lead data to outside servers, with secrets and the
    right to call private addresses: administrators only."""
    return user.is_superuser or user.role == Role.ADMIN


def may_manage_secrets(user: User) -> bool:
    """Whether `user` may see and change secrets that let a server vouch for visitors
    (a tracking site's identity secret): administrators only."""
    return user.is_superuser or user.role == Role.ADMIN


# What an ingest-only token may call: (method, route under /api/v1/). Its answers are cut
# to ids and statuses (leadflow.server.api), so it can push leads and events in but never
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


def may_edit_scoring(user: User) -> bool:
    """Who writes the rules of the game (score rules and groups, and their preview):
    administrators and marketing (the `scoring_rules` row of CONFIGURATION)."""
    return may(user, CHANGE, "scoring_rules")


def may_move_stage(user: User, *, owner_id: int | None, team_id: int | None,
                   between_marketing_stages: bool) -> bool:
    """Stage moves by hand: admins any; marketing between marketing's own stages (any
    lead); sales within their lead scope, any stage."""
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role == Role.MARKETING:
        return between_marketing_stages
    return may_see_lead(user, owner_id=owner_id, team_id=team_id)


def may_decide_handoff(user: User, *, owner_id: int | None, team_id: int | None) -> bool:
    """Accepting or rejecting a hand-off: the lead's owner, a sales manager over it,
    admins."""
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role == Role.SALES_MANAGER:
        return may_see_lead(user, owner_id=owner_id, team_id=team_id)
    return user.role == Role.SALES_REP and owner_id is not None and owner_id == user.pk
