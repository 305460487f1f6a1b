"""The navigation's question: may this person manage webhooks (accounts.permissions)."""

from django import template

from leadflow.accounts.permissions import may_manage_webhooks

register = template.Library()


@register.filter
def manages_webhooks(user) -> bool:
    return bool(user.is_authenticated and may_manage_webhooks(user))
