"""Erasure of campaign texts that may name a person (registered with
leads.privacy.register_store in CampaignsConfig.ready(): leads stands below campaigns)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from leadflow.campaigns.models import Enrollment
from leadflow.leads.stores import chunks

if TYPE_CHECKING:
    from leadflow.leads.privacy import Person


def forget_in_enrollment_errors(people: list[Person]) -> None:
    """A campaign step's error may quote an address (e.g. a refused recipient): an
    enrollment of another lead that names the person keeps its state, not the text."""
    for part in chunks(sorted(set().union(*(p.keys for p in people)))):
        match = Q()
        for key in part:
            match |= Q(last_error__icontains=key)
        Enrollment.objects.filter(match).update(last_error="")
