"""The Stages page: every stage's name and written definition in the reader's language,
for marketing and sales alike (seed 003), and the transition rules in plain words; admins
and marketing edit them (the rules through `lifecycle.rules`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadflow.accounts.permissions import CHANGE, may
from leadflow.core.errors import Forbidden, LeadflowError, NotFound
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.core.params import valid_id
from leadflow.lifecycle import rules, stages
from leadflow.lifecycle.models import (
    ContentKind,
    QualificationReason,
    StageDefinition,
    StageThreshold,
    TransitionKind,
)
from leadflow.lifecycle.services import edit_stage
from leadflow.lifecycle.transitions import DEFAULT_FROM, GRADES


def _stages_page(request: AuthedRequest, status: int = 200, **extra: Any) -> HttpResponse:
    """The page; editors see every reason (inactive ones too) and the form of a new one
    (as typed, with its error, after a refused add)."""
    may_edit = may(request.user, CHANGE, "stages")
    return render(request, "lifecycle/stages.html", {
        "stages": list(stages.definitions().values()),
        "reasons": rules.all_reasons() if may_edit else stages.reasons(),
        "rules": [{"obj": r, "summary": rules.summary(r)} for r in rules.all_rules()],
        "may_edit": may_edit,
        "reason_form": {"code": "", "label_en": "", "label_fr": "", "needs_note": False},
        **extra}, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def stage_list(request: AuthedRequest) -> HttpResponse:
    return _stages_page(request)


class StageForm(forms.ModelForm):
    class Meta:
        model = StageDefinition
        fields = ["name_en", "name_fr", "definition_en", "definition_fr", "position", "kind",
                  "owned_by", "is_handoff", "is_closed", "reject_reset"]


@login_required
def stage_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    definition = StageDefinition.objects.filter(slug=slug).first()
    if definition is None:
        return render_error(request, NotFound(_("No such stage.")))
    form = StageForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        try:
            edit_stage(definition, form.cleaned_data, actor=request.user)
        except Forbidden as exc:
            return render_error(request, exc)
        messages.success(request, _("The stage is saved."))
        return redirect("stages:list")
    if not may(request.user, CHANGE, "stages"):
        return render_error(request, Forbidden(_("Only admins and marketing edit stages.")))
    return render(request, "lifecycle/stage_edit.html", {"form": form, "stage": definition})


# --- transition rules ------------------------------------------------------------------

_rule_editors_only = allowed_only(
    rules.may_edit, gettext_lazy("Only admins and marketing edit transition rules."))


def _rule_state(rule: StageThreshold | None) -> dict[str, Any]:
    """The form's values for `rule` (a new score rule when None), as the inputs show them."""
    if rule is None:
        return {"kind": TransitionKind.SCORE, "stage": "", "from_stages": [], "group": "",
                "min_score": "", "min_grade": "", "event_type": "", "content_kind": "",
                "pattern": "", "active": True}
    return {"kind": rule.kind, "stage": rule.stage,
            "from_stages": [str(s) for s in rule.from_stages or []],
            "group": str(rule.group_id or ""),
            "min_score": "" if rule.min_score is None else str(rule.min_score),
            "min_grade": rule.min_grade, "event_type": rule.event_type,
            "content_kind": rule.content_kind, "pattern": rule.pattern,
            "active": rule.active}


def _rule_state_from_post(post: QueryDict) -> dict[str, Any]:
    return {"kind": post.get("kind", ""), "stage": post.get("stage", ""),
            "from_stages": post.getlist("from_stages"), "group": post.get("group", ""),
            "min_score": post.get("min_score", ""), "min_grade": post.get("min_grade", ""),
            "event_type": post.get("event_type", ""),
            "content_kind": post.get("content_kind", ""), "pattern": post.get("pattern", ""),
            "active": post.get("active") in ("on", "true", "1")}


def _rule_page(request: AuthedRequest, rule: StageThreshold | None, state: dict[str, Any],
               status: int = 200, **extra: Any) -> HttpResponse:
    from leadflow.scoring.models import ScoreGroup

    return render(request, "lifecycle/rule_edit.html", {
        "rule": rule, "form": state, "stages": list(stages.definitions().values()),
        "kinds": TransitionKind.choices, "content_kinds": ContentKind.choices,
        "grades": list(GRADES), "groups": list(ScoreGroup.objects.all()),
        "default_from": ", ".join(stages.name(s) for s in DEFAULT_FROM), **extra},
        status=status)


def _find_rule(rule_id: int) -> StageThreshold | None:
    return StageThreshold.objects.filter(pk=rule_id).first() if valid_id(rule_id) else None


@_rule_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def rule_edit(request: AuthedRequest, rule_id: int | None = None) -> HttpResponse:
    """GET the form of a new rule (or of rule `rule_id`); POST saves it."""
    rule = _find_rule(rule_id) if rule_id is not None else None
    if rule_id is not None and rule is None:
        return render_error(request, NotFound(_("No such transition rule.")))
    if request.method != "POST":
        return _rule_page(request, rule, _rule_state(rule))
    state = _rule_state_from_post(request.POST)
    try:
        rules.save_rule(request.user, rule, state)
    except LeadflowError as exc:
        return _rule_page(request, rule, state, status=exc.status, error=exc.message,
                          error_field=exc.field or "")
    messages.success(request, _("Transition rule saved. It applies to the next events and "
                                "re-scores; no lead moves now."))
    return redirect("stages:list")


@_rule_editors_only
@require_POST
def rule_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = _find_rule(rule_id)
    if rule is None:
        return render_error(request, NotFound(_("No such transition rule.")))
    try:
        rules.delete_rule(request.user, rule)
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Transition rule deleted."))
    return redirect("stages:list")


# --- qualification reasons -------------------------------------------------------------

_reason_editors_only = allowed_only(
    rules.may_edit, gettext_lazy("Only admins and marketing edit the qualification reasons."))


@_reason_editors_only
@require_POST
def reason_new(request: AuthedRequest) -> HttpResponse:
    """Add a rejection and disqualification reason; refused, the page shows the form as
    typed with the error next to its field."""
    state = {"code": request.POST.get("code", ""),
             "label_en": request.POST.get("label_en", ""),
             "label_fr": request.POST.get("label_fr", ""),
             "needs_note": request.POST.get("needs_note") in ("on", "true", "1")}
    try:
        rules.save_reason(request.user, None, state)
    except LeadflowError as exc:
        return _stages_page(request, status=exc.status, reason_form=state,
                            reason_error=exc.message, reason_error_field=exc.field or "")
    messages.success(request, _("Reason added."))
    return redirect("stages:list")


@_reason_editors_only
@require_POST
def reason_active(request: AuthedRequest, reason_id: int) -> HttpResponse:
    """`active=0` deactivates the reason (no longer offered; past decisions keep it),
    `active=1` brings it back."""
    reason = (QualificationReason.objects.filter(pk=reason_id).first()
              if valid_id(reason_id) else None)
    if reason is None:
        return render_error(request, NotFound(_("No such reason.")))
    active = request.POST.get("active") == "1"
    try:
        rules.save_reason(request.user, reason, {"active": active})
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Reason reactivated.") if active else
                     _("Reason deactivated: it is no longer offered."))
    return redirect("stages:list")
