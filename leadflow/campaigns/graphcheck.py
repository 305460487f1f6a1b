"""The check of a whole graph as the builder or the API sends it: each step
(campaigns.stepcheck), links naming existing positions, and no loop the engine would walk
round without stopping (campaigns.engine gives up after MAX_HOPS steps in a row)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from leadflow.campaigns import stepcheck
from leadflow.campaigns.models import Step
from leadflow.core.errors import InvalidInput

if TYPE_CHECKING:
    from leadflow.campaigns.models import Campaign

MAX_STEPS = 200


def _links(step: dict[str, Any], positions: Sequence[int]) -> list[int]:
    """Where the walk may go from `step` without leaving the campaign."""
    out = [p for p in (step["next"], step["no"]) if p is not None]
    if step["next"] is None:
        later = [p for p in positions if p > step["position"]]
        if later:
            out.append(min(later))
    return out


def _holds(step: dict[str, Any]) -> bool:
    """Whether the walk always stops at this step before going on (so a loop through it
    cannot spin): a delay or a weekday wait, a decision with a time limit."""
    if step["kind"] == Step.Kind.WAIT:
        spec = step["config"].get("wait")
        if spec is None:
            return step["wait_seconds"] > 0
        return spec.get("kind") == "weekday" or (spec.get("kind") == "delay"
                                                 and spec.get("seconds", 0) > 0)
    return stepcheck.family(step["kind"]) == "decision" and step["config"].get(
        "within_seconds", 0) > 0


def _check_cycles(steps: list[dict[str, Any]]) -> None:
    positions = sorted(s["position"] for s in steps)
    by_position = {s["position"]: s for s in steps}
    index = {s["position"]: i for i, s in enumerate(steps)}
    colour: dict[int, int] = {}  # 1: on the path, 2: done

    def visit(start: int) -> None:
        stack = [(start, iter(_links(by_position[start], positions)))]
        colour[start] = 1
        while stack:
            node, successors = stack[-1]
            for nxt in successors:
                if _holds(by_position[nxt]):
                    continue
                if colour.get(nxt) == 1:
                    raise InvalidInput(
                        _("Step %(position)d leads back to step %(to)d without a wait or a "
                          "decision with a time limit between them: the walk would never "
                          "stop.") % {"position": node, "to": nxt},
                        field=f"steps.{index[node]}.next")
                if nxt not in colour:
                    colour[nxt] = 1
                    stack.append((nxt, iter(_links(by_position[nxt], positions))))
                    break
            else:
                colour[node] = 2
                stack.pop()

    for s in steps:
        if s["position"] not in colour and not _holds(s):
            visit(s["position"])


def clean_graph(steps: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """The steps sent, each checked (campaigns.stepcheck), links naming existing
    positions, no loop that would spin."""
    if not isinstance(steps, list):
        raise InvalidInput(_("steps must be a list."), field="steps")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(_("A campaign has at most %(n)d steps.") % {"n": MAX_STEPS},
                           field="steps")
    refs = stepcheck.References()
    cleaned = [stepcheck.clean_step(raw, i, refs) for i, raw in enumerate(steps)]
    seen: dict[int, int] = {}
    for i, step in enumerate(cleaned):
        if step["position"] in seen:
            raise InvalidInput(_("Two steps have position %(position)d.")
                               % {"position": step["position"]}, field=f"steps.{i}.position")
        seen[step["position"]] = i
    for i, step in enumerate(cleaned):
        for link in ("next", "no"):
            if step[link] is not None and step[link] not in seen:
                raise InvalidInput(_("%(field)s: there is no step %(position)d.")
                                   % {"field": f"steps.{i}.{link}", "position": step[link]},
                                   field=f"steps.{i}.{link}")
    stepcheck.check_references(cleaned, refs, campaign.pk)
    _check_cycles(cleaned)
    return cleaned
