"""Topics of marketing email (product news, events, offers): the services behind their
pages and API.

Each write takes the actor and asks `accounts.permissions.may(user, CHANGE,
"email_topics")`: admins and marketing. The audit log records every change with its actor
(model signals, leadflow.audit.signals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, VIEW, Actor, may
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, check_fields
from leadflow.emails.models import Topic

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None

FIELDS = ("key", "name", "name_fr", "description", "description_fr", "position")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_LIMITS = {"name": 120, "name_fr": 120, "description": 300, "description_fr": 300}
MAX_POSITION = 1_000_000


def may_view(user: User) -> bool:
    return may(user, VIEW, "email_topics")


def may_edit(user: User) -> bool:
    return may(user, CHANGE, "email_topics")


def check_may_edit(actor: Who) -> None:
    user = Actor.of(actor).user
    if user is not None and not may_edit(user):
        raise Forbidden(_("Only admins and marketing edit email topics."))


def check_may_view(user: User) -> None:
    if not may_view(user):
        raise Forbidden(_("You may not read the email topics."))


def name(topic: Topic, language: str | None = None) -> str:
    """The topic's name in `language` (default: the active one); English when the French
    is not written."""
    code = (language or get_language() or "").split("-")[0]
    return topic.name_fr if code == "fr" and topic.name_fr else topic.name


def description(topic: Topic, language: str | None = None) -> str:
    code = (language or get_language() or "").split("-")[0]
    return (topic.description_fr if code == "fr" and topic.description_fr
            else topic.description)


def all_topics() -> list[Topic]:
    return list(Topic.objects.all())


def _position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(_("Enter a whole number."), field="position")
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,7}", text) or int(text) > MAX_POSITION:
        raise InvalidInput(_("Enter a number between %(min)s and %(max)s.")
                           % {"min": 0, "max": MAX_POSITION}, field="position")
    return int(text)


def clean_topic(data: Mapping[str, Any], topic: Topic | None = None) -> dict[str, Any]:
    """The topic's values after `data` (only the keys given change `topic`), checked;
    raises InvalidInput naming the field at fault. The key is fixed once created: API
    clients and templates name the topic by it."""
    check_fields(data, FIELDS)
    if topic is not None and "key" in data and data["key"] != topic.key:
        raise InvalidInput(_("A topic's key does not change: templates and API clients "
                             "name the topic by it."), field="key")
    current = ({f: getattr(topic, f) for f in FIELDS} if topic is not None else
               {"key": "", "name": "", "name_fr": "", "description": "",
                "description_fr": "", "position": None})
    values = {**current, **data}
    out: dict[str, Any] = {}
    if topic is None:
        key = values.get("key")
        key = key.strip() if isinstance(key, str) else ""
        if not _KEY.match(key):
            raise InvalidInput(_("The key may hold lower-case letters, digits, - and _ "
                                 "only (at most 60)."), field="key")
        if Topic.objects.filter(key=key).exists():
            raise Conflict(_("Another topic has the key %(key)s.") % {"key": key},
                           field="key")
        out["key"] = key
    for field, limit in _LIMITS.items():
        text = values.get(field)
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise InvalidInput(_("Enter a text."), field=field)
        text = " ".join(text.split())
        if len(text) > limit:
            raise InvalidInput(_("At most %(n)s characters.") % {"n": limit}, field=field)
        out[field] = text
    if not out["name"]:
        raise InvalidInput(_("Give the topic's name in English."), field="name")
    position = values.get("position")
    if position is None or position == "":
        last = Topic.objects.order_by("-position").first()
        out["position"] = topic.position if topic is not None else (
            (last.position if last else 0) + 10)
    else:
        out["position"] = _position(position)
    return out


def save_topic(actor: Who, topic: Topic | None, data: Mapping[str, Any]) -> Topic:
    """Create (`topic` None) or change a topic from `data` (keys of FIELDS; for a change,
    only those given). A new topic is on for every lead: only opt-outs are stored."""
    check_may_edit(actor)
    values = clean_topic(data, topic)
    with transaction.atomic():
        target = topic if topic is not None else Topic()
        for key, value in values.items():
            setattr(target, key, value)
        target.save()
    return target


def delete_topic(actor: Who, topic: Topic) -> None:
    """Delete a topic and the leads' opt-outs of it. Refused (409) while a template sends
    under it: its emails would then reach the leads who opted out of the topic."""
    check_may_edit(actor)
    used = topic.templates.count()
    if used:
        raise Conflict(ngettext("%(n)s email template uses this topic: give it another "
                                "topic first.",
                                "%(n)s email templates use this topic: give them another "
                                "topic first.", used) % {"n": used}, field="key")
    topic.delete()
