"""Sender identities: who an email is from (From name and address, Reply-To).

Which identity a message goes out under: its campaign's, else its template's, else the
default identity, else none (then LEADFLOW_FROM_EMAIL, Django's DEFAULT_FROM_EMAIL).
`sender_for` answers for one message; `SenderBook` for a batch, from two queries whatever
its size. `from_header` and `reply_to` give what the Django email takes.

The writes (`save_sender`, `delete_sender`) take the actor and ask
`accounts.permissions.may(user, CHANGE, "templates")` (admins and marketing, as for the
templates); the audit log records each change (leadflow.audit.signals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, VIEW, Actor, may
from leadflow.core.addresses import is_valid_email
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, check_fields
from leadflow.core.params import text
from leadflow.emails.models import SenderIdentity

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None

FIELDS = ("name", "from_name", "from_email", "reply_to", "is_default")
_MAX = {"name": 120, "from_name": 120, "from_email": 254, "reply_to": 254}


# --- who it is from ---------------------------------------------------------------------

def sender_for(template: Any = None, campaign: Any = None) -> SenderIdentity | None:
    """The identity one message goes out under (the campaign's, the template's, the
    default one), or None: then LEADFLOW_FROM_EMAIL."""
    for owner in (campaign, template):
        identity = getattr(owner, "sender", None) if owner is not None else None
        if identity is not None:
            return identity
    return SenderIdentity.objects.filter(is_default=True).first()


@dataclass
class SenderBook:
    """Every identity, loaded once, and the campaigns' choices: what a batch of messages
    needs to pick each one's sender without a query per message."""

    identities: dict[int, SenderIdentity]
    campaign_senders: dict[int, int | None] = field(default_factory=dict)

    @classmethod
    def load(cls, campaign_ids: Iterable[int | None] = ()) -> SenderBook:
        """Two queries at most: the identities (a handful of rows), the campaigns' senders
        (read through Campaign.sender's reverse relation: campaigns stands above emails)."""
        identities = {s.pk: s for s in SenderIdentity.objects.all()}
        wanted = {pk for pk in campaign_ids if pk is not None}
        campaigns: dict[int, int | None] = {}
        if wanted and identities:
            campaigns = dict(SenderIdentity.objects.filter(campaigns__in=wanted)
                             .values_list("campaigns", "pk"))
        return cls(identities, campaigns)

    @property
    def default(self) -> SenderIdentity | None:
        return next((s for s in self.identities.values() if s.is_default), None)

    def pick(self, *, campaign_id: int | None = None,
             template_sender_id: int | None = None,
             sender_id: int | None = None) -> SenderIdentity | None:
        """The identity for a message: `sender_id` (one chosen for the message itself),
        else its campaign's, else its template's, else the default; None: the setting."""
        chosen = (sender_id or self.campaign_senders.get(campaign_id or 0)
                  or template_sender_id)
        found = self.identities.get(chosen) if chosen else None
        return found if found is not None else self.default

    def for_message(self, message: Any) -> SenderIdentity | None:
        """`pick` for an outbox row (emails.EmailMessage) whose template is loaded
        (select_related("template")), or whose template is None."""
        template = message.template
        return self.pick(sender_id=message.sender_id, campaign_id=message.campaign_id,
                         template_sender_id=template.sender_id if template else None)


def from_header(identity: SenderIdentity | None) -> str:
    """The From value for Django's email: `Name <address>`, the name quoted when it holds
    specials (a comma, a quote); a non-ASCII name is encoded (RFC 2047) when the message is
    written. Without an identity: LEADFLOW_FROM_EMAIL."""
    if identity is None:
        return settings.DEFAULT_FROM_EMAIL
    user, _at, domain = identity.from_email.rpartition("@")
    return str(Address(display_name=identity.from_name, username=user, domain=domain))


def reply_to(identity: SenderIdentity | None) -> list[str]:
    """The Reply-To addresses for Django's email (`reply_to=`): none, or the identity's."""
    return [identity.reply_to] if identity is not None and identity.reply_to else []


# --- the editor's services --------------------------------------------------------------

def may_view(user: User) -> bool:
    return may(user, VIEW, "templates")


def may_edit(user: User) -> bool:
    return may(user, CHANGE, "templates")


def check_may_edit(actor: Who) -> None:
    user = Actor.of(actor).user
    if user is not None and not may_edit(user):
        raise Forbidden(_("Only admins and marketing edit sender identities."))


def _line(data: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = text(data.get(name), name).strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field=name)
    if "\r" in value or "\n" in value:
        raise InvalidInput(_("Write it on one line."), field=name)
    if len(value) > _MAX[name]:
        raise InvalidInput(_("At most %(count)s characters.") % {"count": _MAX[name]},
                           field=name)
    return value


def _address(data: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = _line(data, name, required=required)
    if value and not is_valid_email(value):
        raise InvalidInput(_("%(address)r is not a valid email address.")
                           % {"address": value[:100]}, field=name)
    # The domain part is case-insensitive; DKIM keys and the DNS check go by it.
    user, _at, domain = value.rpartition("@")
    return f"{user}@{domain.lower()}" if value else ""


def clean_sender(data: Mapping[str, Any], identity: SenderIdentity | None = None
                 ) -> dict[str, Any]:
    """The identity's values after `data` (for a change, only the keys given), checked;
    raises InvalidInput naming the field at fault."""
    check_fields(data, FIELDS)
    current = ({f: getattr(identity, f) for f in FIELDS} if identity is not None
               else {"reply_to": "", "is_default": False})
    values = {**current, **data}
    out = {"name": _line(values, "name", required=True),
           "from_name": _line(values, "from_name", required=True),
           "from_email": _address(values, "from_email", required=True),
           "reply_to": _address(values, "reply_to", required=False)}
    if not isinstance(values.get("is_default"), bool):
        raise InvalidInput(_("is_default must be true or false."), field="is_default")
    out["is_default"] = values["is_default"]
    taken = SenderIdentity.objects.filter(name=out["name"])
    if identity is not None:
        taken = taken.exclude(pk=identity.pk)
    if taken.exists():
        raise Conflict(_("A sender identity named %(name)r exists already.")
                       % {"name": out["name"]}, field="name")
    return out


def save_sender(actor: Who, identity: SenderIdentity | None,
                data: Mapping[str, Any]) -> SenderIdentity:
    """Create (`identity` None) or change a sender identity. Made the default, it takes
    over from the previous default (one default at most)."""
    check_may_edit(actor)
    values = clean_sender(data, identity)
    with transaction.atomic():
        if values["is_default"]:
            # One row at a time, through save(): the audit log sees the old default go.
            others = SenderIdentity.objects.select_for_update().filter(is_default=True)
            if identity is not None:
                others = others.exclude(pk=identity.pk)
            for other in others:
                other.is_default = False
                other.save(update_fields=["is_default"])
        target = identity if identity is not None else SenderIdentity()
        for key, value in values.items():
            setattr(target, key, value)
        target.save()
    return target


def delete_sender(actor: Who, identity: SenderIdentity) -> None:
    """Delete a sender identity: its templates and campaigns fall back to the default
    identity (or LEADFLOW_FROM_EMAIL), and so do messages still queued under it."""
    check_may_edit(actor)
    identity.delete()


def all_senders() -> list[SenderIdentity]:
    return list(SenderIdentity.objects.order_by("-is_default", "name"))
