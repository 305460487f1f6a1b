"""Starter layouts offered when a template is created: MJML files beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Starter:
    key: str
    name: str | Promise
    description: str | Promise
    subject: str

    def body(self) -> str:
        return (_HERE / f"{self.key}.mjml").read_text(encoding="utf-8")


STARTERS = {s.key: s for s in (
    Starter("newsletter", _("Newsletter"),
            _("A header, three articles with their buttons, an event, links in the footer."),
            "{{ lead.first_name|default:'Hello' }}, this month's news"),
    Starter("announcement", _("Product announcement"),
            _("A headline, a picture, a call to action, and the products the lead looked "
              "at (events.product_viewed)."),
            "The new range is here"),
    Starter("letter", _("Plain letter"),
            _("A personal letter from the lead's owner: text only, no images."),
            "A quick question for {{ lead.company_name|default:'you' }}"),
)}
