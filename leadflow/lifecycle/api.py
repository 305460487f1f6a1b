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


class StageIn(Schema):
    stage: str
    reason: str = ""


class ReasonIn(Schema):
    reason: str
    note: str = ""


@router.post("/{lead_id}/stage", response=answers(LeadOut, 403, 404, 413, 422),
             summary="Move a lead to any stage, forward or backward")
def change_stage(request, lead_id: int, payload: StageIn):
    lead = get_visible_lead(request.user, lead_id)
    lifecycle.change_stage(lead, payload.stage, actor=request.user, reason=payload.reason,
                           via=Event.Via.API)
    lead.refresh_from_db()
    return lead


@router.post("/{lead_id}/handoff/accept", response=answers(LeadOut, 403, 404, 409, 422),
             summary="Accept the hand-off of a lead (sales accepted)")
def accept_handoff(request, lead_id: int):
    lead = get_visible_lead(request.user, lead_id)
    lifecycle.accept_handoff(lead, actor=request.user)
    lead.refresh_from_db()
    return lead


@router.post("/{lead_id}/handoff/reject", response=answers(LeadOut, 403, 404, 409, 413, 422),
             summary="Reject the hand-off of a lead with a reason (back to nurturing)")
def reject_handoff(request, lead_id: int, payload: ReasonIn):
    lead = get_visible_lead(request.user, lead_id)
    lifecycle.reject_handoff(lead, actor=request.user, reason=payload.reason,
                             note=payload.note)
    lead.refresh_from_db()
    return lead


@router.post("/{lead_id}/disqualify", response=answers(LeadOut, 403, 404, 413, 422),
             summary="Disqualify a lead with a reason")
def disqualify(request, lead_id: int, payload: ReasonIn):
    lead = get_visible_lead(request.user, lead_id)
    lifecycle.disqualify(lead, actor=request.user, reason=payload.reason, note=payload.note,
                         via=Event.Via.API)
    lead.refresh_from_db()
    return lead
