"""The global suppression list: addresses never mailed again, whoever the lead.

An address is found by a keyed hash of its normalised form (HMAC-SHA256 with a key
derived from the secret key), so that after an erasure the row keeps only the hash: the
erasure scan finds nothing, and the address is still never mailed again. Every send path
asks `suppressed()` for its batch, in one query.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from leadflow.core import clock
from leadflow.emails.models import Suppression


def normalise(address: str) -> str:
    """The form an address is compared in: trimmed, lower-case (the local part too: no
    mail system in use treats case there as a different mailbox)."""
    return address.strip().lower()


def _key() -> bytes:
    # A key of its own, derived once from the secret key: the hashes mean nothing elsewhere.
    return hashlib.sha256(b"leadflow.emails.suppression:" + settings.SECRET_KEY.encode()).digest()


def address_hash(address: str) -> str:
    return hmac.new(_key(), normalise(address).encode(), hashlib.sha256).hexdigest()


def suppressed(addresses: Iterable[str]) -> set[str]:
    """The normalised addresses among `addresses` that are on the list."""
    by_hash = {address_hash(a): normalise(a) for a in addresses if a}
    if not by_hash:
        return set()
    found = Suppression.objects.filter(address_hash__in=list(by_hash)).values_list(
        "address_hash", flat=True)
    return {by_hash[h] for h in found}


def is_suppressed(address: str) -> bool:
    return bool(address) and bool(suppressed([address]))


@transaction.atomic
def suppress(address: str, reason: str, *, note: str = "", user=None) -> tuple[Suppression, bool]:
    """Put an address on the list (once: a second call keeps the first reason).
    Returns (row, created)."""
    return Suppression.objects.get_or_create(
        address_hash=address_hash(address),
        defaults={"address": normalise(address), "reason": reason, "note": note[:300],
                  "created_at": clock.now(), "created_by": user})


def forget_addresses(addresses: Iterable[str]) -> int:
    """Erasure: the rows of these addresses keep their hash and reason only."""
    hashes = [address_hash(a) for a in addresses if a]
    if not hashes:
        return 0
    return Suppression.objects.filter(address_hash__in=hashes).update(address="", note="")


def lift_unsubscribed(address: str) -> bool:
    """A confirmed double opt-in: the person asked again, with proof, so an UNSUBSCRIBED
    entry of their address goes. Bounces, complaints and hand-made entries stay."""
    if not address:
        return False
    deleted, _ = Suppression.objects.filter(
        address_hash=address_hash(address), reason=Suppression.Reason.UNSUBSCRIBED).delete()
    return bool(deleted)
