"""Signed tokens of the capture forms: fill time, lead magnet links, opt-in links and
the lead cookie. Each carries ids and a time only (never a URL), and reads the one clock
so tests move time instead of sleeping."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

from leadflow.core import clock

_FILL = "leadflow.capture.fill"
_MAGNET = "leadflow.capture.magnet"
_OPTIN = "leadflow.capture.optin"
_LEAD = "leadflow.capture.lead"
MAGNET_LINK_LIFETIME = timedelta(days=7)
OPTIN_LINK_LIFETIME = timedelta(days=30)
LEAD_COOKIE = "lf_lead"
LEAD_COOKIE_AGE = 365 * 24 * 3600


def _now() -> float:
    return clock.now().timestamp()


def _read(token: str, salt: str) -> dict | None:
    try:
        data = signing.loads(token, salt=salt)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    return data if isinstance(data, dict) else None


def fill_token(form_id: int) -> str:
    """Rendered with the form: when it was shown, to refuse posts made too fast."""
    return signing.dumps({"f": form_id, "t": _now()}, salt=_FILL)


def seconds_since_shown(token: str, form_id: int) -> float | None:
    data = _read(token, _FILL)
    if data is None or data.get("f") != form_id or not isinstance(data.get("t"), int | float):
        return None
    return _now() - data["t"]


def magnet_token(form_id: int, lead_id: int) -> str:
    return signing.dumps({"f": form_id, "l": lead_id, "t": _now()}, salt=_MAGNET)


def read_magnet_token(token: str) -> tuple[int, int] | None:
    """(form id, lead id) of a download link that has not expired."""
    data = _read(token, _MAGNET)
    if data is None or not isinstance(data.get("t"), int | float):
        return None
    if _now() - data["t"] > MAGNET_LINK_LIFETIME.total_seconds():
        return None
    return int(data["f"]), int(data["l"])


def optin_token(optin_id: int) -> str:
    return signing.dumps({"o": optin_id, "t": _now()}, salt=_OPTIN)


def read_optin_token(token: str) -> int | None:
    data = _read(token, _OPTIN)
    if data is None or not isinstance(data.get("t"), int | float):
        return None
    if _now() - data["t"] > OPTIN_LINK_LIFETIME.total_seconds():
        return None
    return int(data["o"])


def lead_cookie(lead_id: int) -> str:
    return signing.dumps(lead_id, salt=_LEAD)


def read_lead_cookie(value: str) -> int | None:
    try:
        lead_id = signing.loads(value, salt=_LEAD, max_age=LEAD_COOKIE_AGE)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    return lead_id if isinstance(lead_id, int) else None
