"""The reasons the demo's people give for a stage change, won or lost: stored in English as a
rep would type them, shown in the reader's language (leads.labels.reason_label)."""

from __future__ import annotations

import re
from functools import partial

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

NOT_A_TARGET = "Not in the target: a student"
CONTACT_DATA_INCORRECT = "Contact data incorrect"
AGED = "No sign of buying after a month: nurturing"
ACCEPTED = "Accepted by sales"
QUALIFIED = "BANT met: budget, authority, need, timing under 12 months"
NOT_NOW = "Timing beyond 12 months: back to nurturing"
PROPOSAL = "Proposal sent"
SIGNED = "Signed the annual plan"
LOST = ["Chose a competitor", "Budget cut", "No decision made", "Timing beyond 12 months"]
REJECTED = ["No budget within 12 months", "Product not adapted to their needs",
            "Not the decision maker yet"]
REJECTED_BY_SALES = "Rejected by sales: {}"

# English as stored -> the words shown; gettext_lazy so that the catalogue knows them.
_WORDS: dict[str, Promise] = {
    NOT_A_TARGET: _("Not in the target: a student"),
    CONTACT_DATA_INCORRECT: _("Contact data incorrect"),
    AGED: _("No sign of buying after a month: nurturing"),
    ACCEPTED: _("Accepted by sales"),
    QUALIFIED: _("BANT met: budget, authority, need, timing under 12 months"),
    NOT_NOW: _("Timing beyond 12 months: back to nurturing"),
    PROPOSAL: _("Proposal sent"),
    SIGNED: _("Signed the annual plan"),
    "Chose a competitor": _("Chose a competitor"),
    "Budget cut": _("Budget cut"),
    "No decision made": _("No decision made"),
    "Timing beyond 12 months": _("Timing beyond 12 months"),
    "No budget within 12 months": _("No budget within 12 months"),
    "Product not adapted to their needs": _("Product not adapted to their needs"),
    "Not the decision maker yet": _("Not the decision maker yet"),
}


def _words(english: str, match: re.Match[str] | None = None) -> str:
    return str(_WORDS.get(english, english))


def register() -> None:
    """Called from the server's AppConfig.ready(): leads stands below the server."""
    from leadflow.leads.labels import register_reason

    for english in _WORDS:
        register_reason(re.escape(english), partial(_words, english))
    register_reason(re.escape(REJECTED_BY_SALES.format("")) + "(.+)",
                    lambda m: gettext("Rejected by sales: %(reason)s") % {
                        "reason": _words(m[1])})
