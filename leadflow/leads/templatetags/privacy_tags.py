"""Template access to the permissions the navigation needs (accounts.permissions decides)."""

from django import template

from leadflow.accounts.permissions import may_manage_retention, may_read_audit_log

register = template.Library()


@register.filter
def manages_retention(user) -> bool:
    return bool(user.is_authenticated and may_manage_retention(user))


@register.filter
def reads_audit_log(user) -> bool:
    return bool(user.is_authenticated and may_read_audit_log(user))
