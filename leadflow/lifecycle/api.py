"""`POST /api/v1/leads/{id}/outcome` and the other moves of a lead: `router`, mounted by
server/api.py on the leads prefix, next to leads' own router (leads stands below
lifecycle). The transition rules (`/api/v1/lifecycle/rules`) and the qualification
reasons (`/api/v1/lifecycle/reasons`): `rules_router`, mounted on the lifecycle prefix;
read by every user, written by admins and marketing."""

from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.accounts.permissions import VIEW, may
from leadflow.core.errors import Forbidden
from leadflow.core.params import row_or_404
from leadflow.core.responses import answers
from leadflow.leads.api import LeadOut
from leadflow.leads.services import get_visible_lead
from leadflow.lifecycle import rules
from leadflow.lifecycle import services as lifecycle
from leadflow.lifecycle.models import QualificationReason, StageThreshold
from leadflow.tracking.models import Event

router = Router(tags=["leads"])
rules_router = Router(tags=["lifecycle"])


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


# --- transition rules (/api/v1/lifecycle/rules) ---------------------------------------

class TransitionRuleOut(Schema):
    id: int
    kind: str = Field(description="score | grade | bant | content | event")
    stage: str = Field(description="The stage it moves leads to (a stage's short name)")
    from_stages: list[str] = Field(
        description="The stages it moves leads out of; empty: subscriber, lead, nurture")
    group: int | None = Field(description="score: the score group's id; null: the primary")
    min_score: int | None = Field(description="score: the minimum score")
    min_grade: str = Field(description="grade: the minimum fit grade, A to D")
    event_type: str = Field(description="event: the event type")
    content_kind: str = Field(description="content: page | form | download")
    pattern: str = Field(description="content: a URL pattern (* matches anything) or a "
                                     "form's short name")
    active: bool
    summary: str = Field(description="The rule in words, in the reader's language")

    @staticmethod
    def resolve_group(rule: StageThreshold) -> int | None:
        return rule.group_id

    @staticmethod
    def resolve_from_stages(rule: StageThreshold) -> list[str]:
        found = rule.from_stages
        return [str(s) for s in found] if isinstance(found, list) else []

    @staticmethod
    def resolve_summary(rule: StageThreshold) -> str:
        return rules.summary(rule)


class TransitionRulePatch(Schema):
    kind: str | None = Field(None, description="score (default) | grade | bant | content | "
                                               "event")
    stage: str | None = Field(None, description="The stage it moves leads to")
    from_stages: list[str] | None = Field(
        None, description="The stages it moves leads out of; empty: subscriber, lead, "
                          "nurture")
    group: int | None = Field(None, description="score: a score group's id (null: the "
                                                "primary)")
    min_score: int | None = Field(None, description="score: the minimum score")
    min_grade: str | None = Field(None, description="grade: A, B, C or D")
    event_type: str | None = Field(None, description="event: the event type")
    content_kind: str | None = Field(None, description="content: page | form | download")
    pattern: str | None = Field(None, description="content: a URL pattern or a form's "
                                                  "short name")
    active: bool | None = None


class TransitionRuleIn(TransitionRulePatch):
    stage: str = Field(description="The stage it moves leads to")  # type: ignore[assignment]


def _rule(rule_id: int) -> StageThreshold:
    return row_or_404(StageThreshold, rule_id, _("No such transition rule."))


@rules_router.get("/rules", response=answers(list[TransitionRuleOut]),
                  summary="List the transition rules (how leads change stage by themselves)")
def list_transition_rules(request):
    if not may(request.user, VIEW, "stages"):
        raise Forbidden(_("You may not read the transition rules."))
    return rules.all_rules()


@rules_router.get("/rules/{rule_id}", response=answers(TransitionRuleOut, 404, 422),
                  summary="A transition rule")
def get_transition_rule(request, rule_id: int):
    if not may(request.user, VIEW, "stages"):
        raise Forbidden(_("You may not read the transition rules."))
    return _rule(rule_id)


@rules_router.post("/rules", response=answers({201: TransitionRuleOut}, 413, 422),
                   summary="Add a transition rule (it applies to the next events and "
                           "re-scores; no lead moves now)")
def create_transition_rule(request, payload: TransitionRuleIn):
    rule = rules.save_rule(request.user, None, payload.dict(exclude_unset=True))
    return Status(201, rule)


@rules_router.patch("/rules/{rule_id}", response=answers(TransitionRuleOut, 404, 413, 422),
                    summary="Change a transition rule (only the fields given)")
def update_transition_rule(request, rule_id: int, payload: TransitionRulePatch):
    rules.check_may_edit(request.user)
    return rules.save_rule(request.user, _rule(rule_id), payload.dict(exclude_unset=True))


@rules_router.delete("/rules/{rule_id}", response=answers({204: None}, 404, 422),
                     summary="Delete a transition rule (the leads it moved stay)")
def delete_transition_rule(request, rule_id: int):
    rules.check_may_edit(request.user)
    rules.delete_rule(request.user, _rule(rule_id))
    return Status(204, None)


# --- qualification reasons (/api/v1/lifecycle/reasons) ---------------------------------

class QualificationReasonOut(Schema):
    id: int
    code: str = Field(description="What reports count by; fixed once created")
    label: str = Field(description="The label in the reader's language")
    label_en: str
    label_fr: str
    needs_note: bool = Field(description="Whether choosing it asks for a note")
    active: bool = Field(description="Whether it is offered (rejecting, disqualifying)")


class QualificationReasonPatch(Schema):
    label_en: str | None = None
    label_fr: str | None = None
    needs_note: bool | None = None
    active: bool | None = Field(None, description="false: no longer offered")


class QualificationReasonIn(QualificationReasonPatch):
    code: str = Field(description="Lower-case letters, digits, - and _ (at most 40)")
    label_en: str  # type: ignore[assignment]


def _reason(reason_id: int) -> QualificationReason:
    return row_or_404(QualificationReason, reason_id, _("No such reason."))


@rules_router.get("/reasons", response=answers(list[QualificationReasonOut]),
                  summary="List the rejection and disqualification reasons (inactive ones "
                          "too)")
def list_reasons(request):
    if not may(request.user, VIEW, "stages"):
        raise Forbidden(_("You may not read the qualification reasons."))
    return rules.all_reasons()


@rules_router.post("/reasons", response=answers({201: QualificationReasonOut}, 413, 422),
                   summary="Add a rejection and disqualification reason")
def create_reason(request, payload: QualificationReasonIn):
    return Status(201, rules.save_reason(request.user, None,
                                         payload.dict(exclude_unset=True)))


@rules_router.patch("/reasons/{reason_id}", response=answers(QualificationReasonOut, 404, 413, 422),
                    summary="Change a reason's labels or note, or deactivate it "
                            "(active: false)")
def update_reason(request, reason_id: int, payload: QualificationReasonPatch):
    rules.check_may_edit_reasons(request.user)
    return rules.save_reason(request.user, _reason(reason_id),
                             payload.dict(exclude_unset=True))
