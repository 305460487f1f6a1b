from __future__ import annotations

from typing import Any

from django import template

from leadflow.notifications.services import unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user: Any) -> int:
    """How many notifications `user` has not read (0 for anonymous visitors)."""
    return unread_count(user) if getattr(user, "is_authenticated", False) else 0
