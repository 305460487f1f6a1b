"""The campaign pages (/campaigns/, admins and marketing): the list with counts and the
create form; a campaign's page with its settings, its graph drawn as SVG with the
statistics on each step, and one form per step. Every edit is a form POST to one editor
or builder service, then back to the page (htmx swaps the builder in place; without
script the page reloads)."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadflow.accounts.permissions import may_manage_campaigns
from leadflow.campaigns import builder, editor, forms, graph
from leadflow.campaigns.models import Campaign
from leadflow.campaigns.steps import kinds
from leadflow.core.errors import LeadflowError, NotFound
from leadflow.core.http import AuthedRequest, allowed_only, render_error

_managers = allowed_only(may_manage_campaigns,
                         gettext_lazy("Only administrators and marketers may build campaigns."))


def _campaign(request: AuthedRequest, campaign_id: int) -> Campaign:
    return editor.get_campaign(request.user, campaign_id)


@_managers
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_list(request: AuthedRequest) -> HttpResponse:
    """The campaigns with their memberships by status; POST creates one."""
    archived = request.GET.get("archived") == "1"
    status, error, form = 200, "", {"name": ""}
    if request.method == "POST":
        form = {"name": request.POST.get("name", "")}
        try:
            created = editor.create_campaign(request.user, {
                "name": form["name"], "entry_event_type": request.POST.get("entry_event_type",
                                                                           "")})
        except LeadflowError as exc:
            status, error = exc.status, exc.message
        else:
            messages.success(request, _("Campaign created: add its steps, then start it."))
            return redirect("campaigns:detail", campaign_id=created.pk)
    return render(request, "campaigns/list.html", {
        "campaigns": editor.campaigns(request.user, archived=archived), "archived": archived,
        "form": form, "error": error}, status=status)


def _page(request: AuthedRequest, campaign: Campaign, status: int = 200,
          **extra: Any) -> HttpResponse:
    from leadflow.emails.models import EmailTemplate, SenderIdentity
    from leadflow.lifecycle import stages
    from leadflow.lists.models import LeadList
    from leadflow.scoring.models import OPERATORS, ScoreGroup
    from leadflow.segments.models import Segment

    numbers = editor.stats(campaign)
    steps = [{**forms.step_state(s), "stats": numbers.steps.get(s["position"], {})}
             for s in editor.graph_of(campaign)]
    wanted = extra.pop("selected", None) or request.GET.get("step") or ""
    selected = int(wanted) if str(wanted).isascii() and str(wanted).isdecimal() \
        and len(str(wanted)) < 8 else None
    families = {"action": _("Actions"), "decision": _("Decisions"),
                "condition": _("Conditions")}
    return render(request, "campaigns/detail.html", {
        "campaign": campaign, "steps": steps, "totals": numbers.totals,
        "svg": graph.draw(campaign, numbers.steps, selected), "selected": selected,
        "kind_groups": [(label, [k for k in kinds() if k.family == f])
                        for f, label in families.items()],
        "templates": EmailTemplate.objects.order_by("name").values_list("pk", "name"),
        "senders": SenderIdentity.objects.order_by("name").values_list("pk", "name"),
        "lists": LeadList.objects.order_by("name").values_list("pk", "name"),
        "groups": ScoreGroup.objects.values_list("pk", "name"),
        "segments": Segment.objects.order_by("name").values_list("pk", "name"),
        "others": Campaign.objects.exclude(pk=campaign.pk).values_list("pk", "name"),
        "stages": [(slug, d.name) for slug, d in stages.definitions().items()],
        "settable": _settable_fields(), "reentry_choices": Campaign.Reentry.choices,
        "operators": OPERATORS,
        "units": forms.UNIT_CHOICES, "reentry": forms.split_seconds(campaign.reentry_seconds),
        **extra}, status=status)


def _settable_fields() -> list[str]:
    from leadflow.leads.models import CustomFieldDefinition
    from leadflow.leads.services import SETTABLE_FIELDS

    return [*SETTABLE_FIELDS, *(f"custom.{k}" for k in CustomFieldDefinition.objects
                               .values_list("key", flat=True))]


def _back(campaign: Campaign, position: int | None = None) -> HttpResponse:
    url = reverse("campaigns:detail", args=[campaign.pk])
    return redirect(f"{url}?step={position}#step-{position}" if position else url)


@_managers
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_detail(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """The campaign's page; POST saves its settings."""
    try:
        campaign = _campaign(request, campaign_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    if request.method == "POST":
        try:
            editor.update_campaign(request.user, campaign, forms.settings_from_post(request.POST))
        except LeadflowError as exc:
            campaign.refresh_from_db()
            return _page(request, campaign, exc.status, settings_error=exc.message,
                         error_field=exc.field or "")
        messages.success(request, _("Settings saved."))
        return _back(campaign)
    return _page(request, campaign)


@_managers
@require_POST
def campaign_action(request: AuthedRequest, campaign_id: int, action: str) -> HttpResponse:
    """activate, pause or archive."""
    done = {"activate": (editor.activate, _("The campaign runs: leads enter from now on.")),
            "pause": (editor.pause, _("The campaign is paused.")),
            "archive": (editor.archive, _("The campaign is archived."))}
    try:
        campaign = _campaign(request, campaign_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    if action not in done:
        return render_error(request, NotFound(_("Unknown action.")))
    service, message = done[action]
    try:
        service(request.user, campaign)
    except LeadflowError as exc:
        return _page(request, campaign, exc.status, error=exc.message)
    messages.success(request, message)
    return _back(campaign)


def _edit(request: AuthedRequest, campaign_id: int, position: int | None,
          edit: Any) -> HttpResponse:
    """Run one builder edit; back to the page with the step selected, or the page with
    the error beside the step."""
    try:
        campaign = _campaign(request, campaign_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    try:
        position = edit(campaign) or position
    except editor.LeadsWaiting as exc:
        return _page(request, campaign, exc.status, step_error=exc.message, selected=position,
                     waiting=exc.waiting)
    except LeadflowError as exc:
        return _page(request, campaign, exc.status, step_error=exc.message, selected=position,
                     error_field=exc.field or "")
    return _back(campaign, position)


def _position(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 8 else None


@_managers
@require_POST
def step_add(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    after = _position(request.POST.get("after"))
    branch: builder.Branch = "no" if request.POST.get("branch") == "no" else "yes"
    response = _edit(request, campaign_id, after, lambda c: builder.add_step(
        request.user, c, request.POST.get("kind", ""), after=after, branch=branch))
    if response.status_code == 302:
        campaign = Campaign.objects.get(pk=campaign_id)
        added = max(campaign.steps.values_list("position", flat=True))
        if (was_last := builder.captured(campaign, added)) is not None:
            messages.warning(request, _(
                "Step %(last)d now goes on to step %(new)d: a step without a link goes on "
                "to the next number, so only the last step ends the campaign. End the "
                "other paths with an \"Exit the campaign\" step.")
                % {"last": was_last, "new": added})
    return response


@_managers
@require_POST
def step_save(request: AuthedRequest, campaign_id: int, position: int) -> HttpResponse:
    kind = request.POST.get("kind", "")
    return _edit(request, campaign_id, position, lambda c: builder.update_step(
        request.user, c, position, forms.step_changes(kind, request.POST)))


@_managers
@require_POST
def step_place(request: AuthedRequest, campaign_id: int, position: int) -> HttpResponse:
    x, y = request.POST.get("x"), request.POST.get("y")  # checked by the editor
    return _edit(request, campaign_id, position, lambda c: builder.update_step(
        request.user, c, position, {"x": x, "y": y}))


@_managers
@require_POST
def step_delete(request: AuthedRequest, campaign_id: int, position: int) -> HttpResponse:
    raw = request.POST.get("move_to", "")
    move_to: int | Literal["exit"] | None = "exit" if raw == "exit" else _position(raw)

    def remove(c: Campaign) -> int | None:
        builder.remove_step(request.user, c, position, move_to)
        return None
    response = _edit(request, campaign_id, position, remove)
    if response.status_code == 302:
        messages.success(request, _("Step %(position)d removed.") % {"position": position})
        return redirect(reverse("campaigns:detail", args=[campaign_id]))
    return response


@_managers
@require_POST
def enrol(request: AuthedRequest, campaign_id: int) -> HttpResponse:
    """Enrol the members of a static list."""
    try:
        campaign = _campaign(request, campaign_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    try:
        result = editor.enrol(request.user, campaign,
                              list_id=_position(request.POST.get("list_id")) or 0)
    except LeadflowError as exc:
        return _page(request, campaign, exc.status, error=exc.message)
    messages.success(request, _("%(enrolled)d leads enrolled; %(other)d were already in or "
                                "may not enter again.")
                     % {"enrolled": result.enrolled, "other": result.not_allowed})
    return _back(campaign)
