"""Users, teams and API tokens."""

from __future__ import annotations

from django.db import transaction

from leadflow.accounts.models import ApiToken, Role, Team, User, hash_token
from leadflow.core import clock
from leadflow.core.errors import InvalidInput, NotFound


def create_token(user: User, name: str = "api") -> tuple[ApiToken, str]:
    """Create an API token for `user`; returns the row and the raw token (shown once)."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=hash_token(raw))
    return token, raw


def create_token_for_username(username: str, name: str = "api") -> str:
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(f"No user named {username!r}.", field="user") from None
    return create_token(user, name)[1]


def user_for_token(raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None."""
    if not raw:
        return None
    token = (ApiToken.objects.select_related("user")
             .filter(digest=hash_token(raw), revoked=False, user__is_active=True).first())
    if token is None:
        return None
    now = clock.now()
    # Writing on every request would serialise API traffic on one row; a minute is enough.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def create_admin(username: str, password: str, email: str = "") -> User:
    """Create a superuser with the admin role, or reset the password of an existing one."""
    if not username:
        raise InvalidInput("A username is required.", field="username")
    user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
    user.is_staff = user.is_superuser = True
    user.role = Role.ADMIN
    user.set_password(password)
    user.save()
    return user


def create_team(name: str) -> Team:
    return Team.objects.get_or_create(name=name)[0]
