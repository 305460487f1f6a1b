"""The stage card of the lead page (`{% stage_card lead %}`): the lead's page is leads',
which stands below lifecycle, so the card is rendered here, from the stage definitions."""

from __future__ import annotations

from typing import Any

from django import template

from leadflow.accounts.permissions import may_decide_handoff, may_see_lead
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import Handoff, StageChange

register = template.Library()


@register.inclusion_tag("lifecycle/_stage_card.html", takes_context=True)
def stage_card(context: dict[str, Any], lead: Any) -> dict[str, Any]:
    user = context["request"].user
    definitions = stages.definitions()
    history = list(StageChange.objects.filter(lead=lead).select_related(
        "actor", "qualification_reason"))
    for change in history:
        change.from_name = (  # type: ignore[attr-defined]
            stages.name(change.from_stage) if change.from_stage else "")
        change.to_name = stages.name(change.to_stage)  # type: ignore[attr-defined]
    pending = Handoff.objects.filter(lead=lead, status=Handoff.Status.PENDING).first()
    return {
        "request": context["request"], "csrf_token": context.get("csrf_token"),
        "lead": lead, "stage": definitions.get(lead.stage), "stage_name": stages.name(lead.stage),
        "stages": list(definitions.values()), "history": history, "handoff": pending,
        "reasons": stages.reasons(),
        "may_move": may_see_lead(user, owner_id=lead.owner_id, team_id=lead.team_id),
        "may_decide": pending is not None and may_decide_handoff(
            user, owner_id=lead.owner_id, team_id=lead.team_id),
    }


@register.filter
def stage_name(slug: str) -> str:
    return stages.name(slug)
