"""Data quality at the door: normalise contact data and name what is wrong with it.

Pure functions, no database and no network: they run on every capture and on every row
of a 100,000-row import, so lookups are tables built once and cached.

Email syntax (normalise_email, is_valid_email) is in core.addresses: tracking uses it too.
- is_disposable(email) -> bool (the disposable-email-domains block list, subdomains too).
- normalise_phone(raw, country_hint) -> (value, flag): E.164 and None when valid, else the
  trimmed input and "invalid_phone" (a bad phone is kept, flagged, never an error).
- normalise_country(raw) -> ISO alpha-2, "" when empty, None when unknown. Accepts codes
  (FR, FRA), English and French names and common variants (USA, UK, Royaume-Uni).
- quality_flags(values) -> sorted flag codes for a mapping with email/phone/country.
- clean_contact(values) -> (normalised email/phone/country, flags): both at once.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import phonenumbers
import pycountry
from disposable_email_domains import blocklist
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from leadflow.core.addresses import is_valid_email
from leadflow.tracking.models import EventType

INVALID_EMAIL = "invalid_email"
DISPOSABLE_EMAIL = "disposable_email"
INVALID_PHONE = "invalid_phone"
UNKNOWN_COUNTRY = "unknown_country"
MISSING_CONTACT = "missing_contact"
# Set by a hard bounce (leads.services.flag_email_bounced), not by the values: it stays
# until the address changes.
EMAIL_BOUNCED = "email_bounced"
# Recorded on the timeline when a lead's flags change ({"flags", "added", "removed"}).
FLAGS_CHANGED_EVENT = EventType.QUALITY_FLAGS_CHANGED

FLAG_LABELS = {
    INVALID_EMAIL: _("Invalid email address"),
    DISPOSABLE_EMAIL: _("Disposable email address"),
    INVALID_PHONE: _("Invalid phone number"),
    UNKNOWN_COUNTRY: _("Unknown country"),
    MISSING_CONTACT: _("No email and no phone"),
    EMAIL_BOUNCED: _("Email address bounced"),
}
ALL_FLAGS = tuple(FLAG_LABELS)

def email_domain(email: str | None) -> str:
    return email.rpartition("@")[2].lower() if email and "@" in email else ""


def is_disposable(email: str | None) -> bool:
    domain = email_domain(email)
    while domain:
        if domain in blocklist:
            return True
        _head, _dot, domain = domain.partition(".")
        if "." not in domain:  # never test a bare top-level domain
            return False
    return False


# --- Phones ---------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"[^\d+]")


def normalise_phone(raw: str | None, country_hint: str | None = None
                    ) -> tuple[str, str | None]:
    """(E.164, None) for a valid number; (trimmed raw, "invalid_phone") otherwise; ("", None)
    when empty. `country_hint` (alpha-2) reads national numbers ("06 12 34 56 78" in FR);
    without one, the installation's default region (LEADFLOW_DEFAULT_COUNTRY) does.
    Idempotent: a returned value normalises to itself."""
    value = (raw or "").strip()
    if not value:
        return "", None
    digits = _PHONE_CHARS.sub("", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not digits or len(digits) > 20:
        return value, INVALID_PHONE
    region = (country_hint or "").upper() or settings.DEFAULT_COUNTRY or None
    if not digits.startswith("+") and region is None:
        return value, INVALID_PHONE
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return value, INVALID_PHONE
    if not phonenumbers.is_valid_number(number):
        return value, INVALID_PHONE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


# --- Countries ------------------------------------------------------------------------

# Variants pycountry does not know (its names are ISO's: "Korea, Republic of"...).
_ALIASES = {
    "usa": "US", "us": "US", "u s a": "US", "u s": "US", "america": "US",
    "united states": "US", "united states of america": "US", "etats unis": "US",
    "etats unis d amerique": "US", "uk": "GB", "u k": "GB", "great britain": "GB",
    "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "royaume uni": "GB", "angleterre": "GB",
    "grande bretagne": "GB", "ecosse": "GB", "russia": "RU", "russie": "RU",
    "south korea": "KR", "korea": "KR", "coree du sud": "KR", "north korea": "KP",
    "iran": "IR", "syria": "SY", "vietnam": "VN", "viet nam": "VN", "laos": "LA",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD",
    "taiwan": "TW", "czech republic": "CZ", "czechia": "CZ", "republique tcheque": "CZ",
    "holland": "NL", "the netherlands": "NL", "hollande": "NL", "ivory coast": "CI",
    "cote d ivoire": "CI", "uae": "AE", "emirats arabes unis": "AE", "hong kong": "HK",
    "macau": "MO", "brunei": "BN", "cape verde": "CV", "swaziland": "SZ",
    "burma": "MM", "turkey": "TR", "turquie": "TR", "vatican": "VA", "palestine": "PS",
    "micronesia": "FM", "macedonia": "MK", "kosovo": "XK",
}


def _fold(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces: "Côte-d'Ivoire" -> "cote d ivoire"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@lru_cache(maxsize=1)
def _country_table() -> dict[str, str]:
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"],
                                 fallback=True)
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [country.name, getattr(country, "official_name", ""),
                 getattr(country, "common_name", "")]
        names += [french.gettext(n) for n in names if n]
        for name in names:
            if name:
                table.setdefault(_fold(name), code)
        table[country.alpha_3.lower()] = code
        table[code.lower()] = code
    table.update(_ALIASES)  # aliases win: "us" and "uk" mean what people mean
    return table


@lru_cache(maxsize=4096)
def normalise_country(raw: str | None) -> str | None:
    """ISO 3166 alpha-2 for a code or a name (English or French), "" when empty, None when
    unknown. Idempotent on its results."""
    value = (raw or "").strip()
    if not value:
        return ""
    return _country_table().get(_fold(value))


# --- Flags ----------------------------------------------------------------------------

def clean_contact(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Normalise the email, phone and country in `values` (any of them may be absent) and
    list what is wrong. Returns (the normalised values for the keys present, flags).
    An invalid email comes back unchanged (the caller decides to refuse or keep it), an
    invalid phone is kept as typed, an unknown country becomes "" (with its flag)."""
    clean: dict[str, Any] = {}
    flags: set[str] = set()
    email = (values.get("email") or "").strip().lower()
    if "email" in values:
        clean["email"] = email or None
    if email:
        if not is_valid_email(email):
            flags.add(INVALID_EMAIL)
        elif is_disposable(email):
            flags.add(DISPOSABLE_EMAIL)
    country = (values.get("country") or "").strip()
    code = normalise_country(country)
    if "country" in values:
        clean["country"] = code or ""  # the column holds a code: an unknown name is dropped
    if code is None:
        flags.add(UNKNOWN_COUNTRY)
    phone, phone_flag = normalise_phone(values.get("phone"), code or None)
    if "phone" in values:
        clean["phone"] = phone
    if phone_flag:
        flags.add(phone_flag)
    if not email and not phone:
        flags.add(MISSING_CONTACT)
    return clean, sorted(flags)


def quality_flags(values: Mapping[str, Any]) -> list[str]:
    """The sorted flag codes for a lead's values (a mapping or a dict of a Lead's fields:
    email, phone, country)."""
    return clean_contact(values)[1]


def lead_quality_flags(lead: Any) -> list[str]:
    return quality_flags({"email": lead.email, "phone": lead.phone, "country": lead.country})
