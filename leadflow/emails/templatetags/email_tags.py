"""Template access to who manages the email lists (accounts.permissions decides), for the
menu."""

from django import template

from leadflow.emails import suppression_list, topics

register = template.Library()


@register.filter
def manages_email_lists(user) -> bool:
    """Topics and the suppression list: the menu shows them to those who change them."""
    return bool(user.is_authenticated and (topics.may_edit(user)
                                           or suppression_list.may_view(user)))
