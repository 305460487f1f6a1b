"""The campaign graph as a marketer reads it: each step's summary in words ("Wait 2 days",
"+10 points", "Opened? within 3 days"), a layered layout from the first step (saved x/y
win), and the SVG the builder page shows, drawn on the server.

`draw(campaign)` reads the steps, the names they refer to and the statistics in a few
queries, whatever the number of steps.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadflow.campaigns import stepcheck
from leadflow.campaigns.models import Campaign, Step

S = Step.Kind
NODE_W, NODE_H = 240, 92
GAP_X, GAP_Y = 48, 64
MARGIN = 24


def _duration(seconds: int) -> str:
    from leadflow.campaigns.waits import describe

    return describe({"kind": "delay", "seconds": seconds}).removeprefix(_("Wait") + " ")


@dataclass
class Names:
    """Names of rows the steps refer to, read once per graph."""

    lists: dict[int, str] = field(default_factory=dict)
    campaigns: dict[int, str] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, steps: list[Step]) -> Names:
        from leadflow.accounts.models import User
        from leadflow.lists.models import LeadList

        def ids(key: str) -> list[int]:
            return [int(s.config[key]) for s in steps
                    if isinstance(s.config, dict) and isinstance(s.config.get(key), int)]

        names = cls()
        if wanted := ids("list_id"):
            names.lists = dict(LeadList.objects.filter(pk__in=wanted).values_list("pk", "name"))
        if wanted := ids("campaign_id"):
            names.campaigns = dict(Campaign.objects.filter(pk__in=wanted)
                                   .values_list("pk", "name"))
        if wanted := ids("user_id"):
            names.users = {u.pk: str(u) for u in User.objects.filter(pk__in=wanted)}
        return names


def summary(step: Step, names: Names | None = None) -> str:
    """What the step does, in a few words of the reader's language."""
    names = names or Names()
    config = step.config if isinstance(step.config, dict) else {}
    kind = step.kind
    if kind == S.SEND_EMAIL:
        return step.template.name if step.template_id and step.template else _("No template")
    if kind == S.WAIT:
        from leadflow.campaigns.waits import describe

        try:
            return describe(config.get("wait") or {"kind": "delay",
                                                   "seconds": step.wait_seconds})
        except Exception:  # a spec saved before its checks: shown, not fatal
            return _("Wait")
    if kind == S.ADD_POINTS:
        return ngettext("%(points)+d point", "%(points)+d points", abs(step.points)) % {
            "points": step.points}
    if kind == S.SET_FIELD:
        return f"{config.get('field', '')} = {config.get('value', '')}"
    if kind == S.CHANGE_STAGE:
        from leadflow.lifecycle import stages

        return _("To %(stage)s") % {"stage": stages.name(str(config.get("stage", "")))}
    if kind == S.NOTIFY_OWNER:
        return str(config.get("message") or _("Tell the lead's owner"))
    if kind == S.ASSIGN:
        user = config.get("user_id")
        return (_("To %(user)s") % {"user": names.users.get(user, f"#{user}")} if user
                else _("By the routing rules"))
    if kind in (S.ADD_TO_LIST, S.REMOVE_FROM_LIST):
        pk = config.get("list_id")
        return names.lists.get(pk, f"#{pk}") if pk else ""  # type: ignore[arg-type]
    if kind in (S.ADD_TO_SEGMENT, S.REMOVE_FROM_SEGMENT):
        return _("Segment #%(id)s") % {"id": config.get("segment_id", "?")}
    if kind == S.START_CAMPAIGN:
        pk = config.get("campaign_id")
        return names.campaigns.get(pk, f"#{pk}") if pk else ""  # type: ignore[arg-type]
    if kind == S.SPLIT:
        percent = config.get("percent", 50)
        return _("%(yes)s%% yes, %(no)s%% no") % {"yes": percent, "no": 100 - percent}
    if kind == S.CONDITION:
        return _("Matches the filter")
    if stepcheck.family(kind) == "decision":
        return _decision(step, config)
    return ""


def _decision(step: Step, config: dict[str, Any]) -> str:
    parts = []
    for key in ("event_type", "url", "url_contains", "form"):
        if config.get(key):
            parts.append(str(config[key]))
    for c in config.get("where") or []:
        if isinstance(c, dict):
            parts.append(f"{c.get('field')} {c.get('op')} {c.get('value', '')}".strip())
    within = config.get("within_seconds") or 0
    if within:
        parts.append(_("within %(duration)s") % {"duration": _duration(int(within))})
    else:
        parts.append(_("already done"))
    return ", ".join(parts)


# --- layout ---------------------------------------------------------------------------

def links(step: Step, positions: list[int],
          by_pk: dict[int, Step]) -> list[tuple[int, str, bool]]:
    """The step's ways out, as (position, "yes" | "no" | "" after an action, whether
    it is only the next number: no link set)."""
    family = stepcheck.family(step.kind)
    yes = "yes" if family in ("decision", "condition") else ""
    out = []
    if step.next_step_id and step.next_step_id in by_pk:
        out.append((by_pk[step.next_step_id].position, yes, False))
    elif not step.next_step_id and step.kind != S.EXIT:
        later = [p for p in positions if p > step.position]
        if later:
            out.append((min(later), yes, True))
    if step.no_step_id and step.no_step_id in by_pk:
        out.append((by_pk[step.no_step_id].position, "no", False))
    return out


def layout(steps: list[Step]) -> dict[int, tuple[int, int]]:
    """Where each step is drawn (its top-left corner): layers by distance from the first
    step, yes before no in a layer; steps with a saved x/y stay there."""
    if not steps:
        return {}
    by_pk = {s.pk: s for s in steps}
    by_position = {s.position: s for s in steps}
    positions = sorted(by_position)
    layer: dict[int, int] = {}
    queue = deque([positions[0]])
    layer[positions[0]] = 0
    while True:
        while queue:
            p = queue.popleft()
            for target, _label, _implicit in links(by_position[p], positions, by_pk):
                if target not in layer:
                    layer[target] = layer[p] + 1
                    queue.append(target)
        rest = [p for p in positions if p not in layer]
        if not rest:
            break
        layer[rest[0]] = max(layer.values()) + 1  # not reachable: drawn below the rest
        queue.append(rest[0])
    rows: dict[int, list[int]] = {}
    for p in sorted(layer, key=lambda p: (layer[p], p)):
        rows.setdefault(layer[p], []).append(p)
    width = max(len(r) for r in rows.values())
    at = {}
    for depth, row in rows.items():
        offset = (width - len(row)) * (NODE_W + GAP_X) // 2
        for i, p in enumerate(row):
            s = by_position[p]
            auto = (MARGIN + offset + i * (NODE_W + GAP_X), MARGIN + depth * (NODE_H + GAP_Y))
            at[p] = (s.x if s.x is not None else auto[0], s.y if s.y is not None else auto[1])
    return at


# --- drawing --------------------------------------------------------------------------

def _short(text: str, n: int = 34) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _edge(start: tuple[int, int], end: tuple[int, int], label: str, index: int,
          implicit: bool) -> SafeString:
    (x1, y1), (x2, y2) = start, end
    sx, sy = x1 + NODE_W // 2 + (index * 40 - 20 if label else 0), y1 + NODE_H
    ex, ey = x2 + NODE_W // 2, y2
    if ey > sy:
        mid = (sy + ey) // 2
        path = f"M{sx},{sy} C{sx},{mid} {ex},{mid} {ex},{ey}"
        lx, ly = (sx + ex) // 2, mid
    else:  # back up (a loop): around the right side of both nodes
        side = max(x1, x2) + NODE_W + 30 + 14 * index
        path = (f"M{sx},{sy} C{sx},{sy + 40} {side},{sy + 40} {side},{(sy + ey) // 2} "
                f"S{ex},{ey - 40} {ex},{ey}")
        lx, ly = side, (sy + ey) // 2
    text = {"yes": _("yes"), "no": _("no")}.get(label, "")
    marker = format_html('<text class="edge-label edge-{}" x="{}" y="{}">{}</text>',
                         label, lx + 4, ly - 4, text) if text else ""
    return format_html('<path class="edge edge-{}{}" d="{}" marker-end="url(#arrow)"/>{}',
                       label or "next", " edge-implicit" if implicit else "", path, marker)


def draw(campaign: Campaign, counts: dict[int, dict[str, int]] | None = None,
         selected: int | None = None) -> SafeString:
    """The campaign's graph as an SVG element; each node links to its form (#step-N),
    so the page works without script."""
    steps = list(campaign.steps.select_related("template").order_by("position"))
    if not steps:
        return SafeString("")
    counts = counts or {}
    names = Names.of(steps)
    by_pk = {s.pk: s for s in steps}
    positions = [s.position for s in steps]
    at = layout(steps)
    edges = []
    for s in steps:
        for i, (target, label, implicit) in enumerate(links(s, positions, by_pk)):
            edges.append(_edge(at[s.position], at[target], label, i, implicit))
    nodes = [_node(s, at[s.position], names, counts.get(s.position, {}), selected)
             for s in steps]
    width = max(x for x, _y in at.values()) + NODE_W + MARGIN + 80
    height = max(y for _x, y in at.values()) + NODE_H + MARGIN
    return format_html(
        '<svg class="campaign-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="group" aria-label="{title}">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
        '</marker></defs><g class="edges">{edges}</g><g class="nodes">{nodes}</g></svg>',
        w=width, h=height, title=_("Steps of the campaign"),
        edges=SafeString("".join(edges)), nodes=SafeString("".join(nodes)))


def _node(step: Step, at: tuple[int, int], names: Names, counts: dict[str, int],
          selected: int | None) -> SafeString:
    x, y = at
    text = summary(step, names)
    family = stepcheck.family(step.kind) or "action"
    numbers = [(counts.get(k, 0), word) for k, word in (
        ("entered", _("entered")), ("waiting", _("waiting")), ("passed", _("passed")),
        ("converted", _("converted")), ("exited", _("exited")))]
    stats = " · ".join(str(n) for n, _w in numbers)
    legend = ", ".join(f"{n} {w}" for n, w in numbers)
    title = step.label or step.kind_label
    return format_html(
        '<a href="#step-{p}" class="node node-{family}{sel}" data-position="{p}" '
        'data-x="{x}" data-y="{y}" transform="translate({x},{y})">'
        '<title>{full}</title>'
        '<rect width="{w}" height="{h}" rx="10"/>'
        '<text class="node-kind" x="12" y="22">{n}. {kind}</text>'
        '<text class="node-label" x="12" y="44">{title}</text>'
        '<text class="node-summary" x="12" y="62">{summary}</text>'
        '<text class="node-stats" x="12" y="82" aria-label="{legend}">{stats}</text></a>',
        p=step.position, family=family, sel=" selected" if selected == step.position else "",
        x=x, y=y, w=NODE_W, h=NODE_H, n=step.position, kind=_short(str(step.kind_label), 30),
        title=_short(title if step.label else "", 34), summary=_short(text),
        full=f"{title}: {text}\n{legend}", legend=legend, stats=stats)


def legend() -> SafeString:
    return format_html_join(" · ", "{}", [(w,) for w in (
        _("entered"), _("waiting"), _("passed"), _("converted"), _("exited"))])
