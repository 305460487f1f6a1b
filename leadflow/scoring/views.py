"""The rule editor's pages (/scoring/, admins and marketing): rules per group, a rule's
form with its condition builder and "Preview impact", score groups, and the status of
the re-score a save queued. Parsing of the posted form lives in `scoring.forms`; every
write is one `scoring.editor` service."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadflow.accounts.permissions import may_edit_scoring
from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.scoring import editor, forms, wording
from leadflow.scoring.jobs import RescoreJob
from leadflow.scoring.models import ScoreGroup, ScoreRule

_editors_only = allowed_only(
    may_edit_scoring, gettext_lazy("Only administrators and marketers may change scoring rules."))


@_editors_only
@require_safe
def rule_list(request: AuthedRequest) -> HttpResponse:
    groups = list(ScoreGroup.objects.all())
    rules = list(ScoreRule.objects.order_by("event_type", "name", "pk"))
    sections = [{"group": g, "rules": [{"obj": r, "subject": wording.subject_words(r),
                                        "conditions": wording.conditions_words(r),
                                        "frequency": wording.frequency_words(r)}
                                       for r in rules if r.group_id == g.pk]}
                for g in groups]
    return render(request, "scoring/rules.html", {
        "sections": sections, "jobs": RescoreJob.objects.select_related("requested_by")[:5]})


def _rule_page(request: AuthedRequest, rule: ScoreRule | None, state: dict[str, Any],
               status: int = 200, **extra: Any) -> HttpResponse:
    found = re.match(r"conditions\.(\d+)", extra.get("error_field", ""))
    context = {"rule": rule, "form": state, **forms.rule_choices(), **extra,
               "cond_error": int(found.group(1)) if found else None}
    return render(request, "scoring/rule_edit.html", context, status=status)


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def rule_edit(request: AuthedRequest, rule_id: int | None = None) -> HttpResponse:
    """GET the form; POST `action=preview` (counts, nothing saved, the form as typed) or
    `action=save` (needs the notify choice when scores may move)."""
    rule = get_object_or_404(ScoreRule, pk=rule_id) if rule_id else None
    if request.method != "POST":
        return _rule_page(request, rule, forms.rule_state(rule))
    state = forms.rule_state_from_post(request.POST)
    data = forms.rule_data(state)
    try:
        if request.POST.get("action") == "preview":
            result = editor.preview_rule(request.user, rule, data)
            return _rule_page(request, rule, state, preview=result)
        saved = editor.save_rule(request.user, rule, data,
                                 notify=forms.notify_choice(request.POST))
    except LeadflowError as exc:
        return _rule_page(request, rule, state, status=exc.status, error=exc.message,
                          error_field=exc.field or "")
    messages.success(request, _("Rule saved."))
    if saved.job is not None:
        return redirect("scoring:job", job_id=saved.job.pk)
    return redirect("scoring:rules")


@_editors_only
@require_POST
def rule_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(ScoreRule, pk=rule_id)
    try:
        job = editor.delete_rule(request.user, rule, notify=forms.notify_choice(request.POST))
    except LeadflowError as exc:
        return _rule_page(request, rule, forms.rule_state(rule), status=exc.status,
                          delete_error=exc.message)
    messages.success(request, _("Rule deleted."))
    return redirect("scoring:job", job_id=job.pk) if job else redirect("scoring:rules")


def _groups_page(request: AuthedRequest, status: int = 200, *,
                 editing: int | str | None = None, state: dict[str, Any] | None = None,
                 **extra: Any) -> HttpResponse:
    """Every group with its form (the one being edited as typed, with its error or
    preview), and a form for a new group."""
    items = [{"group": g, "editing": editing == g.pk,
              "form": state if editing == g.pk and state else forms.group_state(g)}
             for g in ScoreGroup.objects.all()]
    return render(request, "scoring/groups.html", {
        "groups": items, "new_editing": editing == "new",
        "new_form": state if editing == "new" and state else forms.group_state(None),
        "fields": forms.group_fields(), **extra}, status=status)


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def groups(request: AuthedRequest) -> HttpResponse:
    """The score groups, each with its form; POST creates one."""
    if request.method != "POST":
        return _groups_page(request)
    return _save_group(request, None, "new")


@_editors_only
@require_POST
def group_edit(request: AuthedRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(ScoreGroup, pk=group_id)
    return _save_group(request, group, group.pk)


def _save_group(request: AuthedRequest, group: ScoreGroup | None,
                editing: int | str) -> HttpResponse:
    state = forms.group_state_from_post(request.POST)
    data, primary = forms.group_data(state)
    try:
        if request.POST.get("action") == "preview":
            result = editor.preview_group(request.user, group, data, primary=primary)
            return _groups_page(request, editing=editing, state=state, preview=result)
        saved = editor.save_group(request.user, group, data, primary=primary,
                                  notify=forms.notify_choice(request.POST))
    except LeadflowError as exc:
        return _groups_page(request, status=exc.status, editing=editing, state=state,
                            error=exc.message, error_field=exc.field or "")
    messages.success(request, _("Score group saved."))
    if saved.job is not None:
        return redirect("scoring:job", job_id=saved.job.pk)
    return redirect("scoring:groups")


@_editors_only
@require_safe
def job(request: AuthedRequest, job_id: int) -> HttpResponse:
    """A queued re-score's status; refreshes itself until it is done or failed."""
    try:
        found = editor.job_for(request.user, job_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    return render(request, "scoring/job.html", {"job": found})
