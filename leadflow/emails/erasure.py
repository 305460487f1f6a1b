"""Erasure of the email rows that know a person only by address (registered with
leads.privacy.register_store in EmailsConfig.ready(): leads stands below emails)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from leadflow.emails.models import EmailMessage
from leadflow.leads.stores import chunks

if TYPE_CHECKING:
    from leadflow.leads.privacy import Person


def forget_in_email_rows(people: list[Person]) -> None:
    """The suppression list keeps only the hash of an erased address. Rows of the lead's
    own messages are deleted with the lead; any other message row still addressed to the
    person (kept for delivery bookkeeping) loses its personal fields, named here."""
    from leadflow.emails.suppression import forget_addresses

    forget_addresses(p.email for p in people if p.email)
    for part in chunks([p.email for p in people if p.email]):
        match = Q()
        for email in part:
            match |= Q(to_email__iexact=email)
        EmailMessage.objects.filter(match).update(to_email="", subject="", error="",
                                                  body_text="", body_html="", headers={})
