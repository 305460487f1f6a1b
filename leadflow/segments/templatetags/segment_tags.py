"""The segments card of the lead page (`{% segments_card lead %}`): the lead's page is
leads', which stands below segments, so the card is rendered here."""

from __future__ import annotations

from typing import Any

from django import template

from leadflow.segments import queries, services, wording

register = template.Library()


@register.inclusion_tag("segments/_lead_card.html", takes_context=True)
def segments_card(context: dict[str, Any], lead: Any) -> dict[str, Any]:
    """The lead's segments, why it is in each (the conditions that hold, with the events
    satisfying them), and its membership history. The page already checked that the
    reader sees the lead."""
    user = context["request"].user
    explanations = services.explain_lead(user, lead)
    names = wording.names_for([e.segment.filter for e in explanations])
    return {
        "request": context["request"], "lead": lead,
        "segments": [{"segment": e.segment, "since": e.since, "override": e.override,
                      "rows": wording.rows(e.conditions, names)} for e in explanations],
        "history": queries.history_of(lead, limit=30),
    }
