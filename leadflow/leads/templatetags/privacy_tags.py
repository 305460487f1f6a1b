"""Template access to the permissions the navigation needs (accounts.permissions decides)."""

from django import template

from leadflow.accounts.permissions import may_manage_retention

register = template.Library()


@register.filter
def manages_retention(user) -> bool:
    return bool(user.is_authenticated and may_manage_retention(user))
