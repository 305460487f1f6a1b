"""A filter's conditions in words, in the reader's language ("Country is FR", "At least 6
× Viewed a page (url contains /tv/) in the last 30 days"): for the lead page's "why",
the segment page and the API's explanation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadflow.segments import language

_OPS = {
    "equals": lambda: _("is"), "contains": lambda: _("contains"),
    "starts_with": lambda: _("starts with"), "one_of": lambda: _("is one of"),
    "gt": lambda: ">", "gte": lambda: "≥", "lt": lambda: "<", "lte": lambda: "≤",
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def comparison(name: str, op: str, value: Any) -> str:
    if op == "exists":
        return (_("%(field)s is known") if value else _("%(field)s is empty")) % {"field": name}
    return f"{name} {_OPS[op]()} {_value(value)}"


def _window(days: int | None) -> str:
    if days is None:
        return ""
    return " " + ngettext("in the last %(n)d day", "in the last %(n)d days", days) % {"n": days}


def describe(node: dict, names: dict[str, dict[int, str]] | None = None) -> str:
    """One node in words (a group: its kind). `names` gives the names of the segments,
    lists and score groups the filter reads ({"segment": {id: name}, ...})."""
    from leadflow.tracking.events import label

    names = names or {}
    kind = language.kind_of(node)
    if kind == "all":
        return _("All of these")
    if kind == "any":
        return _("Any of these")
    if kind == "not":
        return _("None of this")
    if kind == "field":
        return comparison(node["field"], node["op"], node.get("value"))
    if kind == "score_group":
        group = names.get("score_group", {}).get(node["score_group"], f"#{node['score_group']}")
        return comparison(f"{group} · {node['field']}", node["op"], node.get("value"))
    if kind == "quality_flag":
        from leadflow.leads.quality import FLAG_LABELS

        return _("Data quality: %(flag)s") % {
            "flag": FLAG_LABELS.get(node["quality_flag"], node["quality_flag"])}
    if kind == "inactive_days":
        return ngettext("No activity for %(n)d day", "No activity for %(n)d days",
                        node["inactive_days"]) % {"n": node["inactive_days"]}
    if kind in ("segment", "list"):
        name = names.get(kind, {}).get(node[kind], f"#{node[kind]}")
        return (_("In the segment %(name)s") if kind == "segment"
                else _("On the list %(name)s")) % {"name": name}
    spec = language.behaviour(node)
    assert spec is not None
    what = label(spec.type)
    if spec.where:
        what += " (" + ", ".join(comparison(c["field"], c["op"], c.get("value"))
                                 for c in spec.where) + ")"
    if spec.unless:
        what += " " + _("by a person")
    if spec.max == 0:
        return _("No %(what)s") % {"what": what} + _window(spec.days)
    if spec.max is not None and spec.min:
        count = _("Between %(min)d and %(max)d ×") % {"min": spec.min, "max": spec.max}
    elif spec.max is not None:
        count = _("At most %(max)d ×") % {"max": spec.max}
    else:
        count = _("At least %(min)d ×") % {"min": spec.min}
    return f"{count} {what}{_window(spec.days)}"


def names_for(trees: list[dict]) -> dict[str, dict[int, str]]:
    """The names of the segments, lists and score groups these filters read (three
    queries at most)."""
    from leadflow.lists.models import LeadList
    from leadflow.scoring.models import ScoreGroup
    from leadflow.segments.models import Segment

    out: dict[str, dict[int, str]] = {}
    for key, model in (("segment", Segment), ("list", LeadList),
                       ("score_group", ScoreGroup)):
        ids = {leaf[key] for tree in trees for leaf in language.leaves(tree) if key in leaf}
        out[key] = dict(model._default_manager.filter(pk__in=ids).values_list("pk", "name")) \
            if ids else {}
    return out


def explained(node: Any, names: dict[str, dict[int, str]]) -> dict[str, Any]:
    """An evaluate.Explained tree as JSON-ready data (the API's explanation)."""
    return {
        "kind": node.kind, "condition": node.node if not node.children else None,
        "text": describe(node.node, names), "holds": node.holds,
        "children": [explained(c, names) for c in node.children],
        "event_count": node.event_count,
        "events": [{"id": e.id, "type": e.type, "occurred_at": e.occurred_at,
                    "properties": e.properties} for e in node.events],
    }


def rows(node: Any, names: dict[str, dict[int, str]], depth: int = 0) -> list[dict[str, Any]]:
    """An evaluate.Explained tree as indented rows (the pages' explanation)."""
    out = [{"depth": depth, "text": describe(node.node, names), "holds": node.holds,
            "group": bool(node.children), "events": node.events,
            "event_count": node.event_count}]
    for child in node.children:
        out.extend(rows(child, names, depth + 1))
    return out
