"""Template access to who may see email templates (accounts.permissions decides), for the
menu."""

from django import template

from leadflow.accounts.permissions import VIEW, may

register = template.Library()


@register.filter
def sees_email_templates(user) -> bool:
    return bool(user.is_authenticated and may(user, VIEW, "templates"))
