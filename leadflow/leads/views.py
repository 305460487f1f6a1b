"""The leads pages: the list (search, filters, sort, pages) and one lead's page.

Views parse the request, call the services (which decide what the user may see) and
render. Expected errors (LeadflowError) become a message on the page with their status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from leadflow.accounts.services import assignable_owners
from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest
from leadflow.leads import scorecard, services
from leadflow.leads.models import Category
from leadflow.leads.quality import FLAG_LABELS
from leadflow.leads.stages import DEFINITIONS, Stage
from leadflow.tracking import events as event_types
from leadflow.tracking import services as tracking
from leadflow.tracking.models import Event

PER_PAGE = 50
TIMELINE_LIMIT = 100
MAX_SOURCES = 200

# The list's sort keys (short, for URLs) and the service's orderings they stand for.
SORTS = {
    "score": ("-score", gettext_lazy("Highest score")),
    "newest": ("-created_at", gettext_lazy("Newest")),
    "name": ("name", gettext_lazy("Name")),
    "last_touch": ("-last_touch_at", gettext_lazy("Last touch")),
}


@login_required
@require_safe
def lead_list(request: AuthedRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "").strip()
               for name in ("q", "stage", "owner", "source", "quality")}
    sort = request.GET.get("sort", "").strip() or "score"
    context: dict[str, Any] = {
        "filters": filters, "sort": sort, "stages": Stage.choices,
        "just_now": timezone.now() - timedelta(minutes=1),
        "sorts": [(key, label) for key, (_order, label) in SORTS.items()],
        "quality_choices": quality_choices(),
    }
    status = 200
    try:
        leads = services.search_leads(request.user, sort=SORTS.get(sort, (sort,))[0],
                                      **filters)
        paginator = Paginator(leads, PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
        context["page"] = page
        context["page_range"] = paginator.get_elided_page_range(page.number, on_each_side=2,
                                                                on_ends=1)
    except LeadflowError as exc:
        context["error"], status = exc.message, exc.status
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "leads/_results.html", context, status=status)
    else:
        context.update(_filter_choices(request.user))
        response = render(request, "leads/list.html", context, status=status)
    # The same URL answers a full page or the results alone: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def quality_choices() -> list[tuple[str, str]]:
    return [("problems", str(_("Has problems"))), ("ok", str(_("No problems")))] + [
        (code, str(label)) for code, label in FLAG_LABELS.items()]


def _filter_choices(user) -> dict[str, Any]:
    """The owners and sources among the leads `user` may see (one query each)."""
    visible = services.visible_leads(user)
    owners = (get_user_model().objects
              .filter(pk__in=visible.filter(owner__isnull=False).values("owner_id"))
              .order_by("first_name", "last_name", "username"))
    sources = (visible.exclude(source="").order_by("source")
               .values_list("source", flat=True).distinct()[:MAX_SOURCES])
    return {"owners": list(owners), "sources": list(sources)}


@login_required
@require_safe
def lead_detail(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = services.get_visible_lead(request.user, lead_id)
    categories = lead.points_by_category()
    widest = max([abs(p) for p in categories.values()] + [1])
    breakdown = [{"key": c.value, "label": c.label, "points": categories[c.value],
                  "width": round(abs(categories[c.value]) * 100 / widest)} for c in Category]
    events = [describe_event(e) for e in tracking.timeline(lead)[:TIMELINE_LIMIT]]
    return render(request, "leads/detail.html", {
        **lead_data_context(request.user, lead, [item["event"] for item in events]),
        "lead": lead,
        "definition": (DEFINITIONS.get(Stage(lead.stage), "")
                       if lead.stage in Stage.values else ""),
        "breakdown": breakdown,
        # Registered by scoring, which stands above leads (leads.scorecard).
        "score": scorecard.explanation(lead),
        # Through the relation lifecycle declares (it stands above leads).
        "history": lead.stage_changes.select_related("actor"),
        "events": events,
        "timeline_limit": TIMELINE_LIMIT,
        "is_closed": lead.stage in (Stage.CUSTOMER, Stage.LOST),
        "custom_answers": custom_answers(lead),
        "owners": assignable_owners(request.user),
    })


def custom_answers(lead) -> list[tuple[str, Any]]:
    """The lead's custom field values with their labels ("Team size: 11-50"), in the
    definitions' order; a key with no definition left shows under its key."""
    from contextlib import suppress
    from datetime import date

    from leadflow.leads.models import CustomFieldDefinition

    if not lead.custom:
        return []
    labels = {d.key: d for d in CustomFieldDefinition.objects.filter(key__in=list(lead.custom))}
    answers = []
    for key, value in sorted(lead.custom.items(),
                             key=lambda kv: str(labels[kv[0]].shown_label() if kv[0] in labels
                                                else kv[0]).lower()):
        if value in (None, ""):
            continue
        definition = labels.get(key)
        if isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif definition is not None and definition.type == "date":
            with suppress(ValueError):
                value = date.fromisoformat(str(value))
        answers.append((definition.shown_label() if definition else key, value))
    return answers


def lead_data_context(user, lead, events: list[Event]) -> dict[str, Any]:
    """Quality flags, consent ledger, duplicate suggestions and merges for the lead page.
    Merges are read from the timeline's `merged` events: no query of their own."""
    from django.db.models import Q

    from leadflow.leads import dedupe, privacy
    from leadflow.leads.merge import MERGED_EVENT, UNDONE_EVENT

    suggestions = dedupe.open_suggestions(user).filter(Q(lead_a=lead) | Q(lead_b=lead))
    # Only Leadflow's own merge events: one sent from outside before the registry refused
    # it must not offer to undo an unrelated merge.
    events = [e for e in events if event_types.is_authentic(e)]
    undone = {e.properties.get("merge_id") for e in events if e.type == UNDONE_EVENT}
    merges = [{"pk": e.properties.get("merge_id"), "event": e,
               "merged_lead_id": e.properties.get("merged_lead_id"),
               "undone": e.properties.get("merge_id") in undone}
              for e in events if e.type == MERGED_EVENT and e.properties.get("merge_id")]
    return {
        "quality_flags": [(code, FLAG_LABELS.get(code, code)) for code in lead.quality_flags],
        "consents": privacy.consent_ledger(lead),
        "duplicates": [(s, s.lead_b if s.lead_a_id == lead.pk else s.lead_a)
                       for s in suggestions[:10]],
        "merges": merges,
        "can_erase": privacy.can_erase(user),
    }


# --- The timeline, in words ---------------------------------------------------------------

def describe_event(event: Event) -> dict[str, Any]:
    """What a person reads on the timeline for one event: a title, a detail line and a kind
    (web, email, sales, stage, campaign, system) for its colour, from the event registry."""
    shown = event_types.describe(event.type, event.properties or {},
                                 str(event.actor) if event.actor_id else "")
    return {"event": event, "title": shown.title, "detail": shown.detail, "kind": shown.kind,
            "via": event.get_via_display(), "actor": event.actor}
