"""Template access to who may edit scoring (accounts.permissions decides), for the menu."""

from django import template

from leadflow.accounts.permissions import may_edit_scoring

register = template.Library()


@register.filter
def edits_scoring(user) -> bool:
    return bool(user.is_authenticated and may_edit_scoring(user))


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")
