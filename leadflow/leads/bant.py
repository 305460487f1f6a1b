"""BANT answers (seed 003) as the lead stores them, read from what forms, imports and the
API send: yes/no in English or French, a timing within 12 months or later."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Timing

# Spellings of the BANT answers a form, an import or the API may send (after lower()).
YES = {"yes", "y", "true", "1", "oui", "o", "vrai", "x"}
NO = {"no", "n", "false", "0", "non", "faux"}
TIMING_ALIASES = {
    Timing.WITHIN_12_MONTHS: {"within_12_months", "within 12 months", "< 12 months",
                              "<12 months", "short term", "short-term", "yes",
                              "moins de 12 mois", "< 12 mois", "<12 mois", "court terme",
                              "dans les 12 mois", "oui"},
    Timing.LATER: {"later", "later than 12 months", "> 12 months", ">12 months", "long term",
                   "long-term", "no", "plus tard", "plus de 12 mois", "> 12 mois",
                   "long terme", "non"},
}


def bant_value(name: str, value: Any) -> bool | str | None:
    """A BANT answer as stored: budget, authority and need are True, False or None
    (unknown); timing is a Timing value or "" (unknown). Texts in English or French
    ("yes", "non", "within 12 months", "plus tard") are read. Raises InvalidInput."""
    if name == "timing":
        text = str(value if value is not None else "").strip().lower()
        if not text:
            return ""
        for timing, aliases in TIMING_ALIASES.items():
            if text in aliases:
                return timing.value
        raise InvalidInput(_("timing must be one of %(choices)s.")
                           % {"choices": ", ".join(Timing.values)}, field=name)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise InvalidInput(_("%(name)s must be yes, no or empty (unknown).") % {"name": name},
                       field=name)
