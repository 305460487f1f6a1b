"""Template access to the email areas a person may open (accounts.permissions decides,
through emails.hub), for the menu and the pages' sub-navigation."""

from django import template

from leadflow.emails import caps, hub

register = template.Library()


@register.filter
def sees_frequency_caps(user) -> bool:
    return bool(user.is_authenticated and caps.may_view(user))


@register.filter
def email_areas(user) -> list:
    """The email areas the hub lists for `user` (the menu's Email link shows if any)."""
    return hub.areas_for(user)
