"""How a lead's values read in lists: the data-quality problems in a few words."""

from django import template
from django.utils.translation import gettext_lazy as _

from leadflow.leads import quality

register = template.Library()

# Short enough for a table cell, plain enough to need no hover.
SHORT_FLAG_LABELS = {
    quality.INVALID_EMAIL: _("Invalid email"),
    quality.DISPOSABLE_EMAIL: _("Disposable email"),
    quality.INVALID_PHONE: _("Invalid phone"),
    quality.UNKNOWN_COUNTRY: _("Unknown country"),
    quality.MISSING_CONTACT: _("No email or phone"),
}


@register.filter
def flag_labels(lead) -> list[tuple[str, str]]:
    """(code, short label) for each of the lead's data-quality flags."""
    return [(code, str(SHORT_FLAG_LABELS.get(code, quality.FLAG_LABELS.get(code, code))))
            for code in lead.quality_flags or []]
