"""Signed tokens in email links: unsubscribe (RFC 8058 one-click) and open tracking.

The token names the lead and the list (campaign); it carries no URL, so a tracked link can
never be turned into an open redirect.
"""

from __future__ import annotations

from django.core import signing

_UNSUB = signing.Signer(salt="leadflow.emails.unsubscribe")
_OPEN = signing.Signer(salt="leadflow.emails.open")


def unsubscribe_token(lead_id: int, campaign_id: int | None) -> str:
    return _UNSUB.sign_object([lead_id, campaign_id or 0])


def read_unsubscribe_token(token: str) -> tuple[int, int | None] | None:
    try:
        lead_id, campaign_id = _UNSUB.unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return int(lead_id), (int(campaign_id) or None)


def open_token(message_id: int) -> str:
    return _OPEN.sign_object(message_id)


def read_open_token(token: str) -> int | None:
    try:
        return int(_OPEN.unsign_object(token))
    except (signing.BadSignature, ValueError, TypeError):
        return None


_CLICK = signing.Signer(salt="leadflow.emails.click")


def click_token(message_id: int, index: int) -> str:
    return _CLICK.sign_object([message_id, index])


def read_click_token(token: str) -> tuple[int, int] | None:
    try:
        message_id, index = _CLICK.unsign_object(token)
        return int(message_id), int(index)
    except (signing.BadSignature, ValueError, TypeError):
        return None


_PREFERENCES = signing.Signer(salt="leadflow.emails.preferences")


def preferences_token(lead_id: int) -> str:
    return _PREFERENCES.sign_object(lead_id)


def read_preferences_token(token: str) -> int | None:
    try:
        return int(_PREFERENCES.unsign_object(token))
    except (signing.BadSignature, ValueError, TypeError):
        return None
