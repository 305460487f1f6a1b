"""`/api/v1/campaigns`: campaigns, their graph of steps, enrolment by hand, statistics and
memberships. Writes are for admins and marketing (campaigns.editor); sales managers read.
Memberships list only leads the caller sees."""

# No `from __future__ import annotations`: ninja reads the annotations at import time.
from datetime import datetime
from typing import Any, Literal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from leadflow.campaigns import editor
from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core.params import Pagination
from leadflow.core.responses import answers

router = Router(tags=["campaigns"])


class Condition(Schema):
    field: str = Field(description="An event property, e.g. url, product, range")
    op: str = Field(description="equals, not_equals, contains, gt, gte, lt, lte, in, exists")
    value: Any = None


class SettingsFields(Schema):
    description: str | None = Field(None, max_length=5000)
    entry_event_type: str | None = Field(
        None, max_length=60, description="Leads enter when they do this event (empty: none)")
    entry_conditions: list[Condition] | None = Field(
        None, description="Property conditions the entry event must meet")
    entry_score: int | None = Field(None, description="Leads enter when their score reaches "
                                                      "this (empty: not on score)")
    entry_score_group: int | None = Field(None, description="The score group of entry_score "
                                                            "(empty: the primary score)")
    entry_segment: int | None = Field(None, description="Leads enter when they join this "
                                                        "segment (empty: not on a segment)")
    exit_on_segment_leave: bool | None = Field(
        None, description="Leads leave when they leave the entry segment")
    goal_event_type: str | None = Field(None, max_length=60,
                                        description="Leads leave, converted, on this event")
    goal_conditions: list[Condition] | None = None
    reentry: Literal["never", "after_exit", "always"] | None = None
    reentry_seconds: int | None = Field(None, description="Minimum time between two "
                                                          "entries of a lead")
    sender: int | None = Field(None, description="Sender identity of its emails")
    test_mode: bool | None = Field(None, description="Send its emails to the test list only")
    test_list: int | None = None


class CampaignIn(SettingsFields):
    name: str = Field(max_length=120)


class CampaignPatch(SettingsFields):
    name: str | None = Field(None, max_length=120)


class Totals(Schema):
    active: int
    completed: int
    converted: int
    exited: int
    failed: int


class CampaignOut(Schema):
    id: int
    name: str
    description: str
    status: str = Field(description="active | paused | archived")
    entry_event_type: str
    entry_conditions: list[dict[str, Any]]
    entry_score: int | None
    entry_score_group: int | None
    entry_segment: int | None
    exit_on_segment_leave: bool
    goal_event_type: str
    goal_conditions: list[dict[str, Any]]
    reentry: str
    reentry_seconds: int
    sender: int | None
    test_mode: bool
    test_list: int | None
    created_at: datetime
    memberships: Totals = Field(description="Memberships by status")

    @staticmethod
    def resolve_status(row: Campaign) -> str:
        return "archived" if row.archived else "active" if row.active else "paused"

    @staticmethod
    def resolve_entry_score_group(row: Campaign) -> int | None:
        return row.entry_score_group_id

    @staticmethod
    def resolve_entry_segment(row: Campaign) -> int | None:
        return row.entry_segment_id

    @staticmethod
    def resolve_sender(row: Campaign) -> int | None:
        return row.sender_id

    @staticmethod
    def resolve_test_list(row: Campaign) -> int | None:
        return row.test_list_id

    @staticmethod
    def resolve_memberships(row: Campaign) -> dict[str, int]:
        if hasattr(row, "_totals"):
            return row._totals
        if hasattr(row, "n_active"):
            return {s: getattr(row, f"n_{s}") for s in Enrollment.Status.values}
        return editor.stats(row).totals


class StepCounts(Schema):
    entered: int
    waiting: int = Field(description="Standing at the step now")
    passed: int
    converted: int = Field(description="Reached the goal while standing here")
    exited: int


class StepOut(Schema):
    position: int
    kind: str
    kind_label: str
    family: str = Field(description="action | decision | condition")
    label: str
    summary: str = Field(description="What it does, in words")
    config: dict[str, Any]
    template_id: int | None
    wait_seconds: int
    points: int
    count_machines: bool
    next: int | None = Field(description="The step after it (yes, for a decision); empty: "
                                         "the next higher position")
    no: int | None = Field(description="Decisions and conditions: the step on no; empty: "
                                       "the lead leaves")
    x: int | None
    y: int | None
    stats: StepCounts


class CampaignDetail(CampaignOut):
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(row: Campaign) -> list[dict[str, Any]]:
        return row._steps_out  # type: ignore[attr-defined,no-any-return]


class StepIn(Schema):
    position: int = Field(description="Unique in the campaign; a step keeps it across edits")
    kind: str = Field(max_length=30, description="send_email, wait, add_points, set_field, "
                      "change_stage, notify_owner, assign, add_to_list, remove_from_list, "
                      "add_to_segment, remove_from_segment, start_campaign, exit, if_opened, "
                      "if_clicked, if_clicked_link, if_visited, if_submitted, if_bought, "
                      "if_event, condition, split")
    label: str = Field("", max_length=120)
    config: dict[str, Any] = Field(default_factory=dict, description="The kind's settings "
                                   "(docs/campaigns.md)")
    template_id: int | None = Field(None, description="send_email: the email template")
    wait_seconds: int = Field(0, description="wait: a delay, unless config.wait says more")
    points: int = Field(0, description="add_points: points given (negative: taken)")
    count_machines: bool = False
    next: int | None = None
    no: int | None = None
    x: int | None = None
    y: int | None = None


class GraphIn(Schema):
    steps: list[StepIn] = Field(max_length=editor.MAX_STEPS)
    moves: dict[str, int | Literal["exit"]] = Field(
        default_factory=dict, description="Where the leads standing at a removed step go: "
        "{removed position: another position, or \"exit\"}")


class WaitingOut(Schema):
    message: str
    field: str | None = None
    waiting: dict[str, int] = Field(default_factory=dict, description="Leads standing at "
                                    "each removed step: {position: count}")


class EnrolIn(Schema):
    lead_ids: list[int] = Field(default_factory=list, max_length=editor.MAX_ENROL)
    list_id: int | None = Field(None, description="Enrol the members of this static list "
                                                  "(instead of lead_ids)")


class EnrolOut(Schema):
    enrolled: int
    not_allowed: int = Field(description="Already in, or kept out by the re-entry policy")
    not_found: int = Field(description="No such lead, or not one you may see")
    lead_ids: list[int] = Field(description="The leads enrolled")


class StatsOut(Schema):
    totals: Totals
    steps: dict[str, StepCounts] = Field(description="By position")


class MembershipOut(Schema):
    id: int
    lead_id: int
    email: str | None
    status: str
    step: int | None = Field(description="Where it stands (active ones)")
    entered_at: datetime
    step_since: datetime | None
    next_run_at: datetime | None
    waits_for: str
    left_at: datetime | None
    exit_reason: str

    @staticmethod
    def resolve_email(row: Enrollment) -> str | None:
        return row.lead.email

    @staticmethod
    def resolve_step(row: Enrollment) -> int | None:
        return row.next_position if row.status == Enrollment.Status.ACTIVE else None


class MembershipFilter(Schema):
    status: Literal["active", "completed", "exited", "converted", "failed"] | None = None
    step: int | None = Field(None, ge=1, le=10**6, description="Active ones at this step")


def _detail(campaign: Campaign) -> Campaign:
    counts = editor.stats(campaign)
    steps = [{**s, "stats": counts.steps.get(s["position"], {})}
             for s in editor.graph_of(campaign)]
    campaign._totals = counts.totals  # type: ignore[attr-defined]
    campaign._steps_out = steps  # type: ignore[attr-defined]
    return campaign


def _settings(payload: SettingsFields) -> dict[str, Any]:
    return payload.dict(exclude_unset=True)


@router.get("", response=answers(list[CampaignOut], 422),
            summary="Campaigns, by name (archived ones with ?archived=true)")
@paginate(Pagination)
def list_campaigns(request, archived: bool = False):
    return editor.campaigns(request.user, archived=archived)


@router.post("", response=answers({201: CampaignDetail}, 409, 413, 422),
             summary="Create a campaign (paused, no steps yet)")
def create_campaign(request, payload: CampaignIn):
    return Status(201, _detail(editor.create_campaign(request.user, _settings(payload))))


@router.get("/{campaign_id}", response=answers(CampaignDetail, 404, 422),
            summary="A campaign: settings, graph of steps with statistics")
def get_campaign(request, campaign_id: int):
    return _detail(editor.get_campaign(request.user, campaign_id))


@router.patch("/{campaign_id}", response=answers(CampaignDetail, 404, 409, 413, 422),
              summary="Change a campaign's settings")
def update_campaign(request, campaign_id: int, payload: CampaignPatch):
    campaign = editor.get_campaign(request.user, campaign_id)
    return _detail(editor.update_campaign(request.user, campaign, _settings(payload)))


@router.post("/{campaign_id}/activate", response=answers(CampaignDetail, 404, 409, 422),
             summary="Start a campaign: leads enter from now on")
def activate(request, campaign_id: int):
    return _detail(editor.activate(request.user, editor.get_campaign(request.user,
                                                                     campaign_id)))


@router.post("/{campaign_id}/pause", response=answers(CampaignDetail, 404, 422),
             summary="Pause a campaign: no lead enters, memberships due meanwhile stop")
def pause(request, campaign_id: int):
    return _detail(editor.pause(request.user, editor.get_campaign(request.user, campaign_id)))


@router.post("/{campaign_id}/archive", response=answers(CampaignDetail, 404, 422),
             summary="Archive a campaign (paused, hidden from the list)")
def archive(request, campaign_id: int):
    return _detail(editor.archive(request.user, editor.get_campaign(request.user,
                                                                    campaign_id)))


@router.put("/{campaign_id}/steps",
            response=answers({200: CampaignDetail, 409: WaitingOut}, 404, 413, 422),
            summary="Replace the graph of steps (409 with the counts when leads stand at a "
                    "removed step and `moves` does not say where they go)")
def save_steps(request, campaign_id: int, payload: GraphIn):
    campaign = editor.get_campaign(request.user, campaign_id)
    data = payload.dict()
    try:
        editor.save_graph(request.user, campaign, data["steps"], data["moves"])
    except editor.LeadsWaiting as exc:
        return Status(409, {"message": exc.message, "field": exc.field,
                            "waiting": {str(p): n for p, n in exc.waiting.items()}})
    return _detail(campaign)


@router.post("/{campaign_id}/enrol", response=answers(EnrolOut, 404, 409, 413, 422),
             summary="Enrol leads by hand (ids or a list's members; re-entry policy applies)")
def enrol(request, campaign_id: int, payload: EnrolIn):
    campaign = editor.get_campaign(request.user, campaign_id)
    result = editor.enrol(request.user, campaign, lead_ids=payload.lead_ids,
                          list_id=payload.list_id)
    return result.__dict__


@router.get("/{campaign_id}/stats", response=answers(StatsOut, 404, 422),
            summary="Statistics: memberships by status, and per step")
def stats(request, campaign_id: int):
    counts = editor.stats(editor.get_campaign(request.user, campaign_id))
    return {"totals": counts.totals, "steps": {str(p): c for p, c in counts.steps.items()}}


@router.get("/{campaign_id}/memberships", response=answers(list[MembershipOut], 404, 422),
            summary="Memberships of leads you see, newest first (filter by status, step)")
@paginate(Pagination)
def memberships(request, campaign_id: int, filters: Query[MembershipFilter]):
    campaign = editor.get_campaign(request.user, campaign_id)
    return editor.memberships(request.user, campaign, status=filters.status,
                              position=filters.step)
