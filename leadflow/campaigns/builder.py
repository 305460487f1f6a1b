"""The builder page's edits, one at a time: add a step after another (or on its no
branch), change one, place one (x, y), remove one. Each reads the graph, changes it and
saves it whole through `campaigns.editor.save_graph` (its checks, its care for the leads
standing at a removed step), so the page and the API cannot disagree."""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext as _

from leadflow.campaigns import editor, stepcheck
from leadflow.campaigns.models import Campaign, Step
from leadflow.core.errors import InvalidInput, NotFound

S = Step.Kind
Branch = Literal["yes", "no"]
# What a new step of each kind starts with (the marketer edits it next).
DAY = 86400


def _defaults(kind: str) -> dict[str, Any]:
    from leadflow.emails.models import EmailTemplate
    from leadflow.lifecycle import stages
    from leadflow.lists.models import LeadList

    step: dict[str, Any] = {"kind": kind, "config": {}}
    if kind == S.SEND_EMAIL:
        step["template_id"] = EmailTemplate.objects.order_by("name").values_list(
            "pk", flat=True).first()
        if step["template_id"] is None:
            raise InvalidInput(_("Create an email template first."), field="kind")
    elif kind == S.WAIT:
        step["config"] = {"wait": {"kind": "delay", "seconds": DAY}}
    elif kind == S.ADD_POINTS:
        step["points"] = 10
    elif kind == S.SET_FIELD:
        step["config"] = {"field": "title", "value": ""}
    elif kind == S.CHANGE_STAGE:
        step["config"] = {"stage": next(iter(stages.definitions()), "")}
    elif kind in (S.ADD_TO_LIST, S.REMOVE_FROM_LIST):
        first = LeadList.objects.order_by("name").values_list("pk", flat=True).first()
        if first is None:
            raise InvalidInput(_("Create a list of leads first."), field="kind")
        step["config"] = {"list_id": first}
    elif kind == S.SPLIT:
        step["config"] = {"percent": 50}
    elif kind == S.IF_EVENT:
        step["config"] = {"event_type": "purchase", "within_seconds": 3 * DAY}
    elif stepcheck.family(kind) == "decision":
        step["config"] = {"within_seconds": 3 * DAY}
    elif kind == S.CONDITION:
        step["config"] = {"filter": {"all": []}}
    return step


def _find(graph: list[dict[str, Any]], position: int) -> dict[str, Any]:
    for step in graph:
        if step["position"] == position:
            return step
    raise NotFound(_("No step %(position)s in this campaign.") % {"position": position})


def _plain(graph: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The graph as save_graph takes it (without what graph_of adds for reading)."""
    return [{k: v for k, v in s.items() if k in stepcheck.STEP_KEYS} for s in graph]


def add_step(actor: editor.Who, campaign: Campaign, kind: str, *,
             after: int | None = None, branch: Branch = "yes") -> int:
    """A new step of `kind`, after step `after` (on its no branch, for a decision or
    condition, with branch="no"), or at the end. The step that came there comes after
    the new one. Returns its position."""
    editor.check_may_manage(actor)
    if stepcheck.kind_of(kind) is None:
        raise InvalidInput(_("Unknown kind of step: %(kind)s.") % {"kind": kind[:40]},
                           field="kind")
    graph = _plain(editor.graph_of(campaign))
    position = max((s["position"] for s in graph), default=0) + 1
    new = {"position": position, **_defaults(kind)}
    if after is not None:
        source = _find(graph, after)
        link = "no" if branch == "no" else "next"
        if link == "no" and stepcheck.family(source["kind"]) == "action":
            raise InvalidInput(_("Only decisions and conditions have a no path."),
                               field="branch")
        later = [s["position"] for s in graph if s["position"] > after]
        # Without a link an action goes on to the next higher position: the new step
        # (highest of all) takes that place explicitly. A branch of a decision is drawn
        # as a path of its own: the new step ends it.
        branches = stepcheck.family(source["kind"]) != "action"
        new["next"] = source[link] if source[link] is not None or link == "no" or branches \
            else (min(later) if later else None)
        source[link] = position
    editor.save_graph(actor, campaign, [*graph, new])
    return position


def captured(campaign: Campaign, position: int) -> int | None:
    """The step that, having no link, now goes on to the new step `position` (the next
    number) though it ended the campaign before; None when there is none. Steps without
    a link go on to the next number, so only the last one ends: the builder says so."""
    graph = _plain(editor.graph_of(campaign))
    before = [s for s in graph if s["position"] < position]
    if not before:
        return None
    last = max(before, key=lambda s: s["position"])
    leads_on = last["next"] is None and last["kind"] != S.EXIT
    pointed = any(position in (s["next"], s["no"]) for s in graph if s is not last)
    return last["position"] if leads_on and pointed else None


def update_step(actor: editor.Who, campaign: Campaign, position: int,
                changes: dict[str, Any]) -> None:
    """Change one step's fields (label, config, template_id, points, next, no...)."""
    editor.check_may_manage(actor)
    graph = _plain(editor.graph_of(campaign))
    step = _find(graph, position)
    step.update({k: v for k, v in changes.items() if k in stepcheck.STEP_KEYS
                 and k not in ("position", "kind")})
    editor.save_graph(actor, campaign, graph)


def place_step(actor: editor.Who, campaign: Campaign, position: int, x: int, y: int) -> None:
    """Where the builder draws the step (dragged there)."""
    update_step(actor, campaign, position, {"x": x, "y": y})


def remove_step(actor: editor.Who, campaign: Campaign, position: int,
                move_to: int | Literal["exit"] | None = None) -> None:
    """Remove a step; the steps that led to it lead where it led (its yes path). The
    leads standing at it go to `move_to` (a step, or "exit"); without it and with leads
    there, editor.LeadsWaiting says how many."""
    editor.check_may_manage(actor)
    graph = _plain(editor.graph_of(campaign))
    gone = _find(graph, position)
    rest = [s for s in graph if s["position"] != position]
    positions = sorted(s["position"] for s in graph)
    later = [p for p in positions if p > position]
    then = gone["next"] if gone["next"] is not None else (min(later) if later else None)
    for s in rest:
        for link in ("next", "no"):
            if s[link] == position:
                s[link] = then if then != s["position"] else None
    moves = {position: move_to} if move_to is not None else {}
    editor.save_graph(actor, campaign, rest, moves)
