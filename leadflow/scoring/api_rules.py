# No `from __future__ import annotations`: ninja reads the annotations at import time.
"""Score rules and groups through the API (/api/v1/scoring/): read by everyone who may
see the rules, written by admins and marketing with a full-scope token. A write that can
move scores takes `notify` and answers the re-score it queued (docs/scoring-editor.md)."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from leadflow.accounts.permissions import VIEW, may
from leadflow.core.errors import Forbidden, NotFound
from leadflow.core.params import MAX_ID, row_or_404, valid_id
from leadflow.core.responses import answers
from leadflow.scoring import editor, wording
from leadflow.scoring.jobs import RescoreJob
from leadflow.scoring.models import ScoreGroup, ScoreRule

router = Router(tags=["scoring"])

_NOTIFY_TEXT = ("Required when the change can move scores (anything but a name): whether "
                "stage moves caused by the re-score run hand-offs and campaign entries.")
_NOTIFY = Field(None, description=_NOTIFY_TEXT)


class RuleOut(Schema):
    id: int
    group: int
    name: str
    kind: str = Field(description="event | attribute")
    event_type: str
    conditions: list[dict[str, Any]] = Field(
        description='[{"field", "op", "value"}]; op: equals, contains, starts_with, '
                    "one_of, gt, gte, lt, lte, exists")
    points: int
    category: str = Field(description="fit | engagement | interest")
    max_times: int | None = Field(description="1: once; null: every time")
    per: str = Field(description='"" (in all) | day | week | month')
    valid_from: datetime | None
    valid_until: datetime | None
    active: bool
    updated_at: datetime | None
    summary: str = Field(description="The rule in words")

    @staticmethod
    def resolve_group(rule: ScoreRule) -> int:
        return rule.group_id or 0

    @staticmethod
    def resolve_summary(rule: ScoreRule) -> str:
        return wording.summary(rule)


class RulePatch(Schema):
    group: int | None = Field(None, description="A score group's id (default: the primary)")
    name: str | None = None
    kind: str | None = Field(None, description="event (default) | attribute")
    event_type: str | None = Field(None, description="For event rules: the type scored")
    conditions: list[Any] | None = None
    points: int | None = Field(None, description="Points given (negative: taken)")
    category: str | None = Field(None, description="fit | engagement (default) | interest")
    max_times: int | None = Field(None, description="1: once; null: every time")
    per: str | None = Field(None, description='"" (in all) | day | week | month')
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    active: bool | None = None
    notify: bool | None = _NOTIFY


class RuleIn(RulePatch):
    name: str  # type: ignore[assignment]
    points: int  # type: ignore[assignment]


class PreviewIn(RulePatch):
    id: int | None = Field(None, description="The rule this would change (none: a new one)")
    delete: bool = Field(False, description="Preview deleting the rule `id` instead")


class RescoreJobOut(Schema):
    id: int
    status: str = Field(description="queued | running | done | failed")
    reason: str
    notify: bool
    leads_changed: int
    stage_moves: int
    seconds: float
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    url: str

    @staticmethod
    def resolve_url(job: RescoreJob) -> str:
        return f"/api/v1/scoring/jobs/{job.pk}"


class RuleSaved(Schema):
    rule: RuleOut
    rescore: RescoreJobOut | None = Field(description="The re-score queued (null: none needed)")


class Rescore(Schema):
    rescore: RescoreJobOut | None


class RulePreviewOut(Schema):
    leads_changed: int = Field(description="Leads whose score would change")
    stage_moves: int = Field(description="Leads that would change stage")
    entries_added: int
    entries_removed: int
    entries_changed: int
    seconds: float


class GroupPatch(Schema):
    name: str | None = None
    slug: str | None = None
    weight_fit: int | None = None
    weight_engagement: int | None = None
    weight_interest: int | None = None
    grade_a_min: int | None = None
    grade_b_min: int | None = None
    grade_c_min: int | None = None
    inactivity_days: int | None = None
    inactivity_points: int | None = None
    half_life_days: int | None = None
    is_primary: bool | None = Field(None, description="true: make this the primary group")
    notify: bool | None = _NOTIFY


class GroupIn(GroupPatch):
    name: str  # type: ignore[assignment]


class GroupOut(Schema):
    id: int
    name: str
    slug: str
    is_primary: bool
    weight_fit: int | None
    weight_engagement: int | None
    weight_interest: int | None
    grade_a_min: int
    grade_b_min: int
    grade_c_min: int
    inactivity_days: int | None
    inactivity_points: int
    half_life_days: int | None


class GroupSaved(Schema):
    group: GroupOut
    rescore: RescoreJobOut | None


class RuleFilters(Schema):
    group: int | None = Field(None, ge=1, le=MAX_ID)
    active: bool | None = None


def _may_read(request) -> None:
    if not may(request.user, VIEW, "scoring_rules"):
        raise Forbidden(_("You may not read the scoring rules."))


def _rule(rule_id: int) -> ScoreRule:
    return row_or_404(ScoreRule, rule_id, _("No such scoring rule."))


def _group(group_id: int) -> ScoreGroup:
    return row_or_404(ScoreGroup, group_id, _("No such score group."))


@router.get("/rules", response=answers(list[RuleOut], 422), summary="List the scoring rules")
def list_rules(request, filters: Query[RuleFilters]):
    _may_read(request)
    rules = ScoreRule.objects.order_by("group_id", "event_type", "name", "pk")
    if filters.group is not None:
        rules = rules.filter(group_id=filters.group)
    if filters.active is not None:
        rules = rules.filter(active=filters.active)
    return list(rules)


@router.post("/rules", response=answers({201: RuleSaved}, 413, 422),
             summary="Add a scoring rule (an active one re-scores every lead)")
def create_rule(request, payload: RuleIn):
    data = payload.dict(exclude_unset=True)
    notify = data.pop("notify", None)
    saved = editor.save_rule(request.user, None, data, notify=notify)
    return Status(201, {"rule": saved.obj, "rescore": saved.job})


@router.post("/rules/preview", response=answers(RulePreviewOut, 404, 413, 422),
             summary="How many leads a rule change would re-score and move; changes nothing")
def preview_rule(request, payload: PreviewIn):
    data = payload.dict(exclude_unset=True)
    rule_id, delete = data.pop("id", None), data.pop("delete", False)
    data.pop("notify", None)
    rule = _rule(rule_id) if rule_id is not None else None
    return editor.preview_rule(request.user, rule, data, delete=delete and rule is not None)


@router.get("/rules/{rule_id}", response=answers(RuleOut, 404, 422),
            summary="A scoring rule")
def get_rule(request, rule_id: int):
    _may_read(request)
    return _rule(rule_id)


@router.patch("/rules/{rule_id}", response=answers(RuleSaved, 404, 413, 422),
              summary="Change a scoring rule (re-scores every lead unless only its name "
                      "changes)")
def update_rule(request, rule_id: int, payload: RulePatch):
    data = payload.dict(exclude_unset=True)
    notify = data.pop("notify", None)
    saved = editor.save_rule(request.user, _rule(rule_id), data, notify=notify)
    return {"rule": saved.obj, "rescore": saved.job}


@router.delete("/rules/{rule_id}", response=answers(Rescore, 404, 422),
               summary="Delete a scoring rule (an active one: re-scores every lead)")
def delete_rule(request, rule_id: int,
                notify: bool | None = Query(None, description=_NOTIFY_TEXT)):
    rule = _rule(rule_id)
    return {"rescore": editor.delete_rule(request.user, rule, notify=notify)}


@router.get("/groups", response=answers(list[GroupOut]), summary="List the score groups")
def list_groups(request):
    _may_read(request)
    return list(ScoreGroup.objects.all())


@router.post("/groups", response=answers({201: GroupSaved}, 413, 422),
             summary="Add a score group (is_primary: true makes it the primary one)")
def create_group(request, payload: GroupIn):
    data = payload.dict(exclude_unset=True)
    notify, primary = data.pop("notify", None), data.pop("is_primary", None)
    saved = editor.save_group(request.user, None, data, primary=bool(primary), notify=notify)
    return Status(201, {"group": saved.obj, "rescore": saved.job})


@router.patch("/groups/{group_id}", response=answers(GroupSaved, 404, 413, 422),
              summary="Change a score group (weights, grades, decay, primary: re-scores)")
def update_group(request, group_id: int, payload: GroupPatch):
    data = payload.dict(exclude_unset=True)
    notify, primary = data.pop("notify", None), data.pop("is_primary", None)
    group = _group(group_id)
    saved = editor.save_group(request.user, group, data, primary=bool(primary), notify=notify)
    return {"group": saved.obj, "rescore": saved.job}


@router.get("/jobs/{job_id}", response=answers(RescoreJobOut, 404, 422),
            summary="A re-score: queued, running, done (with its counts) or failed")
def get_job(request, job_id: int):
    if not valid_id(job_id):
        raise NotFound(_("No such re-score."))
    return editor.job_for(request.user, job_id)
