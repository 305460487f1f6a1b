"""The suppression list as people manage it (its page and API): read, search, add, remove.

Who: `accounts.permissions.may(user, VIEW | CHANGE, "suppression")`, admins and marketing.
The list holds the addresses of people whatever their lead's owner (and of people who are
no lead at all), so the roles with a lead scope (sales managers, reps) do not read it: a
rep sees the do-not-email flag on the leads they may see.

Addresses are looked up by their keyed hash only (emails.suppression): a search by
address hashes what was typed; a row whose person was erased has only its hash left.
Adds and removals are recorded in the audit log by hash and count, never by address.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadflow.accounts.permissions import CHANGE, VIEW, Actor, may
from leadflow.core import clock
from leadflow.core.addresses import is_valid_email
from leadflow.core.errors import Forbidden, InvalidInput, NotFound
from leadflow.emails.models import Suppression
from leadflow.emails.suppression import address_hash, normalise

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None

MAX_ADD = 1000  # addresses in one add (a page's textarea, one API call)
_HASH_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def may_view(user: User) -> bool:
    return may(user, VIEW, "suppression")


def may_manage(user: User) -> bool:
    return may(user, CHANGE, "suppression")


def check_may_view(user: User) -> None:
    if not may_view(user):
        raise Forbidden(_("Only admins and marketing see the suppression list."))


def _check_may_manage(actor: Who) -> User | None:
    user = Actor.of(actor).user
    if user is not None and not may_manage(user):
        raise Forbidden(_("Only admins and marketing change the suppression list."))
    return user


def rows(user: User, query: str = "", *, address: str = "") -> QuerySet[Suppression]:
    """The list as `user` may read it, newest first; `query` is an address (found by its
    hash) or the start of a hash (at least 8 hex digits, as an erased row shows it);
    `address` is one address only."""
    check_may_view(user)
    found = Suppression.objects.select_related("created_by")
    if address:
        return found.filter(address_hash=address_hash(address))
    query = query.strip()
    if not query:
        return found
    if "@" in query:
        return found.filter(address_hash=address_hash(query))
    if _HASH_PREFIX.match(query.lower()):
        return found.filter(address_hash__startswith=query.lower())
    raise InvalidInput(_("Search by a whole email address, or by the first 8 characters "
                         "of a hash or more."), field="q")


@dataclass
class Added:
    """One line of an add: `status` is added, already (on the list before: its first
    reason is kept) or invalid (with `message`)."""

    index: int
    address: str
    status: str
    message: str = ""


def add(actor: Who, addresses: Iterable[str], *, reason: str = Suppression.Reason.MANUAL,
        note: str = "") -> list[Added]:
    """Put `addresses` on the list, each on its own: an invalid one is reported and the
    valid ones are added all the same (one read and one insert for the batch)."""
    user = _check_may_manage(actor)
    items = list(addresses)
    if len(items) > MAX_ADD:
        raise InvalidInput(_("At most %(n)s addresses at once.") % {"n": MAX_ADD},
                           field="addresses")
    if reason not in Suppression.Reason.values:
        raise InvalidInput(_("Choose one of: %(choices)s.")
                           % {"choices": ", ".join(Suppression.Reason.values)}, field="reason")
    if not isinstance(note, str) or "\x00" in note or len(note) > 300:
        raise InvalidInput(_("The note is a text of at most 300 characters."), field="note")
    results: list[Added] = []
    wanted: dict[str, str] = {}  # hash -> normalised address, first occurrence
    for index, raw in enumerate(items):
        text = raw if isinstance(raw, str) else ""
        address = normalise(text)
        if not is_valid_email(address):
            results.append(Added(index, text[:254], "invalid",
                                 _("Not a valid email address.")))
            continue
        results.append(Added(index, address, "added"))
        wanted.setdefault(address_hash(address), address)
    with transaction.atomic():
        known = set(Suppression.objects.filter(address_hash__in=list(wanted))
                    .values_list("address_hash", flat=True))
        now = clock.now()
        Suppression.objects.bulk_create(
            [Suppression(address_hash=h, address=a, reason=reason, note=note, created_at=now,
                         created_by=user) for h, a in wanted.items() if h not in known],
            ignore_conflicts=True)
        seen: set[str] = set()
        for result in results:
            if result.status != "added":
                continue
            digest = address_hash(result.address)
            if digest in known or digest in seen:
                result.status = "already"
                result.message = _("Already on the list.")
            seen.add(digest)
        count = sum(r.status == "added" for r in results)
        if count:
            _audit("created", ngettext("%(n)s address", "%(n)s addresses", count)
                   % {"n": count}, {"count": count, "reason": reason}, user)
    return results


def remove(actor: Who, *, address: str = "", digest: str = "") -> Suppression:
    """Take one address off the list (named by address, or by its full hash for a row
    whose person was erased): it may be mailed again. NotFound when it is not listed."""
    user = _check_may_manage(actor)
    if bool(address) == bool(digest):
        raise InvalidInput(_("Name the address, or its hash."), field="address")
    key = address_hash(address) if address else digest.strip().lower()
    if not _HASH.match(key):
        raise InvalidInput(_("A hash is 64 hexadecimal characters."), field="hash")
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(address_hash=key).first()
        if row is None:
            raise NotFound(_("This address is not on the suppression list."))
        row.delete()
        _audit("deleted", _("hash %(hash)s…") % {"hash": row.address_hash[:12]},
               {"reason": row.reason}, user)
    return row


def shown(row: Suppression) -> str:
    """How a row names its address: the address, or only its hash once erased."""
    if row.address:
        return row.address
    return _("erased address (hash %(hash)s…)") % {"hash": row.address_hash[:12]}


def _audit(action: str, what: str, changes: dict, user: User | None) -> None:
    from leadflow.audit.models import AuditEntry
    from leadflow.audit.services import record

    # Never the address itself: an erasure would have to find it in the audit log too.
    record(AuditEntry.Kind.CONFIG, action, object_type="emails.Suppression",
           object_repr=what, changes=changes, actor=user)
