"""Segment filters in Python: the straightforward reading of a filter for a few leads,
and the explanation built on it ("why is this lead in this segment?": each condition,
whether it holds, and the events that satisfy a behaviour condition).

It is the SQL compiler's twin (segments.filters): the property test holds them to the
same answers. It loads what the filter reads for the given leads (their rows, scores per
group, events of the types it names, memberships), so it is for a few leads at a time:
the lead page, the tests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadflow.core import clock
from leadflow.scoring.conditions import lead_row_fields, lead_values, matches
from leadflow.segments import language

# Events shown per behaviour condition in an explanation.
SHOWN_EVENTS = 20


@dataclass(frozen=True)
class SeenEvent:
    id: int
    type: str
    properties: dict
    occurred_at: datetime


@dataclass
class Facts:
    """What filters read about some leads, as of `now`."""

    now: datetime
    values: dict[int, dict[str, Any]] = field(default_factory=dict)
    flags: dict[int, list[str]] = field(default_factory=dict)
    active_at: dict[int, datetime] = field(default_factory=dict)
    group_scores: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    primary: int | None = None
    events: dict[int, list[SeenEvent]] = field(default_factory=lambda: defaultdict(list))
    segments: dict[int, set[int]] = field(default_factory=dict)
    lists: dict[int, set[int]] = field(default_factory=dict)


def load(tree: dict, lead_ids: Iterable[int], now: datetime | None = None) -> Facts:
    """The facts `tree` reads about these leads (erased leads are left out: they match
    nothing). A handful of queries, for a few leads."""
    from leadflow.leads.models import Lead
    from leadflow.lists.models import ListMember
    from leadflow.scoring.models import LeadGroupScore, ScoreGroup
    from leadflow.segments.models import SegmentMember
    from leadflow.tracking.models import Event

    facts = Facts(now or clock.now())
    ids = sorted(set(lead_ids))
    extra = ("score", "fit_score", "engagement_score", "interest_score", "grade", "owner_id",
             "team_id", "quality_flags", "last_touch_at", "created_at")
    for row in Lead.objects.filter(pk__in=ids, erased_at__isnull=True).values(
            *lead_row_fields(), *extra):
        values = lead_values(row)
        values.update({name: row[name] for name in extra[:5]})
        values["owner"], values["team"] = row["owner_id"], row["team_id"]
        facts.values[row["id"]] = values
        facts.flags[row["id"]] = list(row["quality_flags"] or [])
        facts.active_at[row["id"]] = row["last_touch_at"] or row["created_at"]
    leaves = list(language.leaves(tree))
    if any("score_group" in leaf for leaf in leaves):
        facts.primary = ScoreGroup.objects.filter(is_primary=True).values_list(
            "pk", flat=True).first()
        for row in LeadGroupScore.objects.filter(lead_id__in=ids).values():
            facts.group_scores[(row["lead_id"], row["group_id"])] = dict(row)
    types = {spec.type for leaf in leaves if (spec := language.behaviour(leaf))}
    if types:
        for pk, lead_id, type_, props, at in Event.objects.filter(
                lead_id__in=ids, type__in=types).order_by("-occurred_at", "-id").values_list(
                "pk", "lead_id", "type", "properties", "occurred_at"):
            facts.events[lead_id].append(SeenEvent(pk, type_, props or {}, at))
    for key, model, column in (("segment", SegmentMember, "segment_id"),
                               ("list", ListMember, "list_id")):
        wanted = language.references(tree, key)
        store = facts.segments if key == "segment" else facts.lists
        for ref in wanted:
            store[ref] = set()
        if wanted:
            for ref, lead_id in model.objects.filter(**{f"{column}__in": wanted},
                                                     lead_id__in=ids).values_list(
                    column, "lead_id"):
                store[ref].add(lead_id)
    return facts


def holds(tree: dict, lead_id: int, facts: Facts) -> bool:
    """Whether the filter matches the lead (an erased or unknown lead: never)."""
    if lead_id not in facts.values:
        return False
    return _holds(tree, lead_id, facts)


def _holds(tree: dict, lead_id: int, facts: Facts) -> bool:
    kind = language.kind_of(tree)
    if kind == "all":
        return all(_holds(item, lead_id, facts) for item in tree["all"])
    if kind == "any":
        return any(_holds(item, lead_id, facts) for item in tree["any"])
    if kind == "not":
        return not _holds(tree["not"], lead_id, facts)
    return leaf_holds(tree, lead_id, facts)[0]


def leaf_holds(leaf: dict, lead_id: int, facts: Facts) -> tuple[bool, list[SeenEvent]]:
    """Whether one condition holds, and for a behaviour condition the events counted."""
    values = facts.values[lead_id]
    if "score_group" in leaf:
        name = leaf["field"]
        if leaf["score_group"] == facts.primary:
            value = values[language.PRIMARY_COLUMNS[name]]
        else:
            row = facts.group_scores.get((lead_id, leaf["score_group"]))
            value = row[name] if row else ("" if name == "grade" else 0)
        return matches([{**leaf, "field": name}], {name: value}), []
    if "field" in leaf:
        return matches([leaf], values), []
    if "quality_flag" in leaf:
        return leaf["quality_flag"] in facts.flags[lead_id], []
    if "inactive_days" in leaf:
        return facts.active_at[lead_id] <= facts.now - timedelta(
            days=leaf["inactive_days"]), []
    if "segment" in leaf:
        return lead_id in facts.segments.get(leaf["segment"], set()), []
    if "list" in leaf:
        return lead_id in facts.lists.get(leaf["list"], set()), []
    spec = language.behaviour(leaf)
    assert spec is not None
    since = facts.now - timedelta(days=spec.days) if spec.days is not None else None
    counted = [e for e in facts.events.get(lead_id, ())
               if e.type == spec.type and (since is None or e.occurred_at >= since)
               and matches(list(spec.where), e.properties)
               and not (spec.unless and matches(list(spec.unless), e.properties))]
    n = len(counted)
    return n >= spec.min and (spec.max is None or n <= spec.max), counted


@dataclass
class Explained:
    """One node of a filter, for one lead: whether it holds, its children (groups) or the
    events it counted (behaviour conditions, the latest first)."""

    node: dict
    kind: str
    holds: bool
    children: list[Explained] = field(default_factory=list)
    events: list[SeenEvent] = field(default_factory=list)
    event_count: int = 0


def explain(tree: dict, lead_id: int, facts: Facts) -> Explained:
    kind = language.kind_of(tree)
    if kind in ("all", "any", "not"):
        items = tree[kind] if kind != "not" else [tree["not"]]
        children = [explain(item, lead_id, facts) for item in items]
        outcome = {"all": all, "any": any}.get(kind)
        result = outcome(c.holds for c in children) if outcome else not children[0].holds
        return Explained(tree, kind, result, children)
    if lead_id not in facts.values:
        return Explained(tree, kind, False)
    result, events = leaf_holds(tree, lead_id, facts)
    return Explained(tree, kind, result, events=events[:SHOWN_EVENTS],
                     event_count=len(events))
