"""Users, teams and API tokens."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.accounts.models import ApiToken, Role, Team, TokenScope, User, hash_token
from leadflow.accounts.permissions import token_permits
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, NotFound, Unauthorized


def create_token(user: User, name: str = "api", *, scope: str = TokenScope.FULL,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create an API token for `user`, maybe limited to a scope (TokenScope) and an expiry
    in the future; returns the row and the raw token (shown once)."""
    if scope not in TokenScope.values:
        raise InvalidInput(_("scope must be one of %(choices)s, not %(scope)r.")
                           % {"choices": ", ".join(TokenScope.values), "scope": scope},
                           field="scope")
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput(_("The expiry must be in the future."), field="expires_at")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=hash_token(raw),
                                    scope=scope, expires_at=expires_at)
    return token, raw


def create_token_for_username(username: str, name: str = "api", *,
                              scope: str = TokenScope.FULL,
                              expires_at: datetime | None = None) -> str:
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(_("No user named %(username)r.")
                       % {"username": username}, field="user") from None
    return create_token(user, name, scope=scope, expires_at=expires_at)[1]


def authenticate_token(raw: str, method: str, route: str) -> tuple[User, ApiToken] | None:
    """The user and token behind a raw bearer token for an API call `method route`, or None
    for an unknown or revoked one. An expired token is Unauthorized (401) and a call
    outside the token's scope Forbidden (403), each saying why."""
    token = _live_token(raw)
    if token is None:
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        raise Unauthorized(_("This API token expired on %(expires_at)s UTC.")
                           % {"expires_at": format(token.expires_at, "%Y-%m-%d %H:%M")})
    if not token_permits(token.scope, method, route):
        raise Forbidden(_("This API token is limited to %(scope)s: it may not call %(method)s "
                          "/%(route)s.")
                        % {"scope": token.get_scope_display().lower(), "method": method,
                           "route": route.strip("/")})
    _touch(token)
    return token.user, token


def _live_token(raw: str) -> ApiToken | None:
    if not raw:
        return None
    return (ApiToken.objects.select_related("user")
            .filter(digest=hash_token(raw), revoked=False, user__is_active=True).first())


def _touch(token: ApiToken) -> None:
    now = clock.now()
    # Writing on every request would serialise API traffic on one row; a minute is enough.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


def user_for_token(raw: str) -> User | None:
    """The active user an unexpired raw bearer token belongs to, or None."""
    token = _live_token(raw)
    if token is None or (token.expires_at is not None and token.expires_at <= clock.now()):
        return None
    _touch(token)
    return token.user


@transaction.atomic
def create_admin(username: str, password: str, email: str = "") -> User:
    """Create a superuser with the admin role, or reset the password of an existing one."""
    if not username:
        raise InvalidInput(_("A username is required."), field="username")
    user, _created = User.objects.get_or_create(username=username, defaults={"email": email})
    user.is_staff = user.is_superuser = True
    user.role = Role.ADMIN
    user.set_password(password)
    user.save()
    return user


def create_team(name: str) -> Team:
    return Team.objects.get_or_create(name=name)[0]


def token_rows() -> list[tuple[str, str, str, str, str, str, str]]:
    """Every token as text for listing: prefix, user, name, scope, expiry, last use and
    whether it is revoked (never its secret, which is not stored)."""
    def when(moment: datetime | None) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"

    return [(t.prefix + "…", t.user.username, t.name, t.scope,
             "expires " + when(t.expires_at) if t.expires_at else "no expiry",
             "used " + when(t.last_used_at), "revoked" if t.revoked else "active")
            for t in ApiToken.objects.select_related("user").order_by("created_at", "pk")]


def set_time_zone(user: User, name: str, *, actor: User) -> User:
    """Set the zone `user`'s pages show times in ("" for the installation's). A person
    sets their own; an administrator anyone's (Forbidden otherwise). InvalidInput for a
    name that is no IANA zone."""
    from leadflow.accounts.timezones import is_valid

    if actor.pk != user.pk and not (actor.is_superuser or actor.role == Role.ADMIN):
        raise Forbidden(_("You may only change your own time zone."))
    name = (name or "").strip()
    if name and not is_valid(name):
        raise InvalidInput(_("Unknown time zone %(name)r: use a name such as Europe/Paris.")
                           % {"name": name[:64]}, field="time_zone")
    user.time_zone = name
    user.save(update_fields=["time_zone"])
    return user


def assignable_owners(user: User) -> list[User]:
    """The people `user` may hand a lead to (accounts.permissions.may_assign_to), by name;
    empty for a rep."""
    from leadflow.accounts.permissions import may_assign_to, sees_all_leads

    people = User.objects.filter(is_active=True)
    if not sees_all_leads(user):
        if user.role != Role.SALES_MANAGER:
            return []
        people = people.filter(pk=user.pk) | (
            people.filter(team_id=user.team_id) if user.team_id else people.none())
    return [p for p in people.order_by("first_name", "last_name", "username")
            if may_assign_to(user, p)]
