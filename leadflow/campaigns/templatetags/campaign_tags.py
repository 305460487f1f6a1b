"""Template access to who may build campaigns (accounts.permissions decides), for the menu."""

from django import template

from leadflow.accounts.permissions import may_manage_campaigns

register = template.Library()


@register.filter
def manages_campaigns(user) -> bool:
    return bool(user.is_authenticated and may_manage_campaigns(user))
