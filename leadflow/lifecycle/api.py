"""`POST /api/v1/leads/{id}/outcome`: mounted by server/api.py on the leads prefix, next
to leads' own router (leads stands below lifecycle)."""

from typing import Literal

from ninja import Router, Schema

from leadflow.core.responses import answers
from leadflow.leads.api import LeadOut
from leadflow.leads.services import get_visible_lead
from leadflow.lifecycle import services as lifecycle
from leadflow.tracking.models import Event

router = Router(tags=["leads"])


class OutcomeIn(Schema):
    outcome: Literal["won", "lost"]
    reason: str = ""


# The operation id it had in leads' router: clients generated from the schema keep it.
@router.post("/{lead_id}/outcome", response=answers(LeadOut, 404, 413, 422),
             summary="Mark the deal won or lost",
             operation_id="leadflow_leads_api_mark_outcome")
def mark_outcome(request, lead_id: int, payload: OutcomeIn):
    lead = get_visible_lead(request.user, lead_id)
    lifecycle.mark_outcome(lead, payload.outcome, actor=request.user, reason=payload.reason,
                           via=Event.Via.API)
    lead.refresh_from_db()
    return lead
