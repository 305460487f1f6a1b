"""VERP: each message's own Return-Path, so that a bounce names the message it is about.

The envelope sender is `<local>+<id>-<sig>@<domain>`: the message's id and a short keyed
signature of it (a forged bounce cannot suppress an address of our choosing). The
domain is LEADFLOW_BOUNCE_DOMAIN, whose MX points at `leadflow bounces`; without it, the
sender's own domain.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_LOCAL = "bounces"
_ADDRESS = re.compile(r"^<?\s*" + _LOCAL + r"\+(\d+)-([0-9a-f]{10})@", re.IGNORECASE)


def _sig(message_id: int) -> str:
    key = hashlib.sha256(b"leadflow.emails.verp:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, str(message_id).encode(), hashlib.sha256).hexdigest()[:10]


def return_path(message_id: int, sender_domain: str) -> str:
    domain = settings.LEADFLOW_BOUNCE_DOMAIN or sender_domain
    return f"{_LOCAL}+{message_id}-{_sig(message_id)}@{domain}"


def message_of(address: str) -> int | None:
    """The message id a VERP address names, or None (not ours, or a bad signature)."""
    match = _ADDRESS.match(address.strip())
    if not match:
        return None
    message_id = int(match.group(1))
    return message_id if hmac.compare_digest(_sig(message_id), match.group(2).lower()) else None
