"""The pages of segments (/segments/): the list and each segment (everyone, counting the
leads they see), and the builder (those who manage segments), whose live count and
sample come from POST /api/v1/segments/preview (static/segments/builder.js)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadflow.accounts.permissions import VIEW, may, may_manage_segments
from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.segments import language, queries, services, wording
from leadflow.segments.models import Segment

PER_PAGE = 50

_viewers = allowed_only(lambda user: may(user, VIEW, "segments"),
                        gettext_lazy("You may not see segments."))
_managers = allowed_only(may_manage_segments,
                         gettext_lazy("Only administrators and marketing manage segments."))


@_viewers
@require_safe
def index(request: AuthedRequest) -> HttpResponse:
    segments = list(queries.with_counts(request.user).order_by("name"))
    return render(request, "segments/index.html", {
        "segments": segments, "may_manage": may_manage_segments(request.user),
        "building": any(s.build_state == Segment.BuildState.BUILDING for s in segments)})


@_viewers
@require_safe
def detail(request: AuthedRequest, segment_id: int) -> HttpResponse:
    try:
        segment = services.get_segment(segment_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    paginator = Paginator(queries.visible_members(request.user, segment), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    names = wording.names_for([segment.filter])
    return render(request, "segments/detail.html", {
        "segment": segment, "page": page, "count": queries.visible_count(request.user, segment),
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "conditions": _condition_rows(segment.filter, names),
        "history": queries.visible_history(request.user, segment)[:50],
        "may_manage": may_manage_segments(request.user)})


def _condition_rows(tree: dict, names: dict, depth: int = 0) -> list[dict[str, Any]]:
    kind = language.kind_of(tree)
    rows = [{"depth": depth, "text": wording.describe(tree, names)}]
    for child in tree.get(kind, []) if kind in ("all", "any") else (
            [tree["not"]] if kind == "not" else []):
        rows.extend(_condition_rows(child, names, depth + 1))
    return rows


def _options() -> dict[str, Any]:
    """What the builder offers: fields, operators, segments, lists, groups, flags."""
    from leadflow.leads.quality import FLAG_LABELS
    from leadflow.lists.models import LeadList
    from leadflow.scoring.conditions import COMPANY_FIELDS
    from leadflow.scoring.models import OPERATORS, ScoreGroup

    return {
        "fields": [*language.FIELD_KINDS, *(f"company.{n}" for n in COMPANY_FIELDS)],
        "ops": list(OPERATORS), "email_actions": list(language.EMAIL_ACTIONS),
        "group_fields": list(language.GROUP_FIELDS),
        "segments": list(Segment.objects.order_by("name").values("id", "name")),
        "lists": list(LeadList.objects.order_by("name").values("id", "name")),
        "groups": list(ScoreGroup.objects.order_by("name").values("id", "name")),
        "flags": [{"id": k, "name": str(v)} for k, v in FLAG_LABELS.items()],
    }


def _words() -> dict[str, str]:
    """The builder's words, in the reader's language (builder.js has none of its own)."""
    return {
        "operator": _("Operator"), "value": _("Value"), "field": _("Field"),
        "score_group": _("Score group"), "event_type": _("Event type"),
        "property": _("Property"), "product": _("Product"),
        "product_range": _("Product range"), "min_value": _("Amount at least"),
        "min": _("At least (times)"), "max": _("At most (times)"),
        "within_days": _("Days"), "action": _("Action"), "campaign": _("Campaign id"),
        "machines": _("Count machines too"), "segment": _("Segment"), "list": _("List"),
        "quality_flag": _("Data quality flag"), "remove": _("Remove"), "group": _("Group"),
        "add_condition": _("Add a condition"), "add_group": _("Add a group"),
        "kind": _("Kind of condition"), "counting": _("Counting…"),
        "error": _("The count could not be read."), "bad_json": _("This is not valid JSON."),
        "count": _("%(count)s leads match now"),
        "all": _("all of"), "any": _("any of"), "not": _("none of"),
        "event": _("Events"), "email": _("Email engagement"), "purchase": _("Purchases"),
        "inactive_days": _("Inactive for (days)"),
        "equals": _("is"), "contains": _("contains"), "starts_with": _("starts with"),
        "one_of": _("is one of"), "exists": _("is known"),
        "opened": _("opened"), "clicked": _("clicked"), "not_opened": _("opened none"),
        "not_clicked": _("clicked none"),
        "true": _("yes"), "false": _("no"),
    }


@_managers
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: AuthedRequest, segment_id: int | None = None) -> HttpResponse:
    """The builder: a new segment, or one's name, description and filter."""
    try:
        segment = services.get_segment(segment_id) if segment_id is not None else None
    except LeadflowError as exc:
        return render_error(request, exc)
    form: dict[str, Any] = {"name": segment.name if segment else "",
            "description": segment.description if segment else "",
            "active": segment.active if segment else True,
            "filter": json.dumps(segment.filter if segment else {"all": []}, indent=1)}
    status, error, error_field = 200, "", ""
    if request.method == "POST":
        form = {"name": request.POST.get("name", ""),
                "description": request.POST.get("description", ""),
                "active": request.POST.get("active") == "on",
                "filter": request.POST.get("filter", "")}
        try:
            tree = _parsed(form["filter"])
            if segment is None:
                segment = services.create_segment(
                    request.user, name=form["name"], description=form["description"],
                    filter=tree, active=form["active"])
                messages.success(request, _("Segment created."))
            else:
                services.update_segment(request.user, segment, name=form["name"],
                                        description=form["description"], filter=tree,
                                        active=form["active"])
                messages.success(request, _("Segment saved."))
            return redirect("segments:detail", segment_id=segment.pk)
        except LeadflowError as exc:
            status, error, error_field = exc.status, exc.message, exc.field or ""
    return render(request, "segments/builder.html", {
        "segment": segment, "form": form, "error": error, "error_field": error_field,
        "options": _options(), "words": _words()}, status=status)


def _parsed(text: str) -> Any:
    from leadflow.core.errors import InvalidInput

    try:
        return json.loads(text)
    except ValueError:
        raise InvalidInput(_("The filter is not valid JSON."), field="filter") from None


@_managers
@require_POST
def rebuild(request: AuthedRequest, segment_id: int) -> HttpResponse:
    try:
        services.rebuild_segment(request.user, services.get_segment(segment_id))
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Rebuild queued: a worker recomputes the members shortly."))
    return redirect("segments:detail", segment_id=segment_id)


@_managers
@require_POST
def delete(request: AuthedRequest, segment_id: int) -> HttpResponse:
    try:
        services.delete_segment(request.user, services.get_segment(segment_id))
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Segment deleted."))
    return redirect("segments:index")
