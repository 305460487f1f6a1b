"""Transitions by rule (`StageThreshold` rows): score or grade thresholds per score group,
BANT met, high-intent content (HMQL), an event. Applied to each batch of the pipeline and to
the leads a re-score outside it changed (`scoring.signals.scores_rebuilt`), set-based: the
rules, at most one read of the leads concerned and the group ids, then one move per target
stage.

A lead in a detour (nurture: rejected by sales or recycled) is not moved again by its score
or grade alone: the move needs an event of the lead's own after it entered the detour (in
a batch, an event of its own in that batch; after a re-score, a last touch later than its
stage change). Points given to it (a reset, an adjustment) are not its own events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from leadflow.core.pipeline import Batch
from leadflow.leads.models import Lead, meets_bant
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import (
    CONTENT_EVENTS,
    StageDefinition,
    StageThreshold,
    TransitionKind,
)
from leadflow.lifecycle.moves import move
from leadflow.tracking.models import Event, EventType

# Where a rule without `from_stages` may move a lead from (later stages are people's).
DEFAULT_FROM = ("subscriber", "lead", "nurture")
GRADES = "ABCD"
# Events that may change BANT answers (the form, the rep's edit, an assessment).
BANT_EVENTS = frozenset({EventType.LEAD_UPDATED, EventType.FORM_SUBMITTED,
                         EventType.LEAD_CREATED, "assessment_completed"})
_LEAD_FIELDS = ("id", "stage", "score", "grade", "budget", "authority", "need", "timing",
                "stage_changed_at", "last_touch_at")


@dataclass
class _State:
    stage: str
    score: int
    grade: str = ""
    meets_bant: bool = False
    own_event: bool = False  # an event of its own after it entered its stage


def on_events(batch: Batch) -> None:
    """Pipeline step: move the leads of this batch that meet a transition rule.

    Rules react to what leads do (and to BANT answers changing): a batch of only Leadflow's
    own actions (emails sent, stage changes, assignments) with no points reads nothing."""
    if not batch.scored and not batch.group_scores and all(
            e.type in EventType.OUR_ACTIONS and e.type not in BANT_EVENTS
            for e in batch.events):
        return
    rules = list(StageThreshold.objects.filter(active=True))
    if not rules or not batch.events:
        return
    kinds = {r.kind for r in rules}
    own = {e.lead_id for e in batch.events
           if e.lead_id is not None and e.type not in EventType.OUR_ACTIONS}
    wanted: set[int] = set()
    if kinds & {TransitionKind.SCORE, TransitionKind.GRADE}:
        wanted |= set(batch.scored) | set(batch.group_scores)
    if TransitionKind.BANT in kinds:
        wanted |= {e.lead_id for e in batch.events
                   if e.lead_id is not None and e.type in BANT_EVENTS}
    hits: dict[int, list[tuple[StageThreshold, str]]] = defaultdict(list)
    for rule in rules:
        if rule.kind in (TransitionKind.CONTENT, TransitionKind.EVENT):
            for event in batch.events:
                if event.lead_id is not None and (what := _consumed(rule, event)):
                    hits[event.lead_id].append((rule, what))
    wanted |= set(hits)
    if not wanted:
        return
    needs_read = kinds & {TransitionKind.GRADE, TransitionKind.BANT} or (
        wanted - set(batch.scored))
    states: dict[int, _State]
    if needs_read:
        states = {row["id"]: _state(row, own=row["id"] in own)
                  for row in Lead.objects.filter(pk__in=sorted(wanted)).values(*_LEAD_FIELDS)}
    else:
        states = {lead_id: _State(stage, score, own_event=lead_id in own)
                  for lead_id, (stage, score) in batch.scored.items() if lead_id in wanted}
    groups = {lead_id: {g: after for g, (_before, after) in by_group.items()}
              for lead_id, by_group in batch.group_scores.items()}
    _apply(rules, states, groups, hits, primary=_primary(rules), cause=None, notify=True)


def on_scores_rebuilt(sender: object, *, changes: Mapping[int, Mapping[int, tuple[int, int]]],
                      cause: str = "rule_change", notify: bool = True,
                      **_: object) -> int:
    """`scoring.signals.scores_rebuilt`: score and grade thresholds applied to the leads a
    re-score changed, the moves labelled with `cause` and `notify` passed on. Returns how
    many leads moved."""
    if not changes:
        return 0
    rules = [r for r in StageThreshold.objects.filter(
        active=True, kind__in=(TransitionKind.SCORE, TransitionKind.GRADE))]
    if not rules:
        return 0
    from leadflow.scoring.models import primary_group_id

    primary = primary_group_id()
    states = {row["id"]: _state(row, own=_touched_since(row))
              for row in Lead.objects.filter(pk__in=sorted(changes)).values(*_LEAD_FIELDS)}
    groups = {lead_id: {g: after for g, (_b, after) in by_group.items()}
              for lead_id, by_group in changes.items()}
    return _apply(rules, states, groups, {}, primary=primary, cause=cause, notify=notify)


def _touched_since(row: dict[str, Any]) -> bool:
    entered: datetime | None = row["stage_changed_at"]
    touched: datetime | None = row["last_touch_at"]
    return entered is None or (touched is not None and touched > entered)


def _state(row: dict[str, Any], *, own: bool) -> _State:
    bant = meets_bant(row["budget"], row["authority"], row["need"], row["timing"])
    return _State(row["stage"], row["score"], row["grade"] or "", bant, own)


def _primary(rules: Iterable[StageThreshold]) -> int | None:
    if all(r.group_id is None for r in rules):
        return None
    from leadflow.scoring.models import primary_group_id

    return primary_group_id()


def _consumed(rule: StageThreshold, event: Event) -> str:
    """What of `event` meets a content or event rule ("" if nothing)."""
    if rule.kind == TransitionKind.EVENT:
        return event.type if event.type == rule.event_type else ""
    if rule.content_kind not in CONTENT_EVENTS:
        return ""
    event_type, fields = CONTENT_EVENTS[rule.content_kind]
    if event.type != event_type:
        return ""
    for name in fields:
        value = str((event.properties or {}).get(name) or "")
        if value and _fits(rule.pattern, value, exact=rule.content_kind == "form"):
            return value
    return ""


def _fits(pattern: str, value: str, *, exact: bool) -> bool:
    if "*" in pattern or "?" in pattern:
        return fnmatchcase(value, pattern)
    return value == pattern if exact else bool(pattern) and pattern in value


def _meets(rule: StageThreshold, state: _State, groups: dict[int, int],
           primary: int | None) -> str:
    """The English reason the rule moves this lead, or "" when it does not."""
    name = _english_name(rule.stage)
    if rule.kind == TransitionKind.SCORE and rule.min_score is not None:
        if rule.group_id is None or rule.group_id == primary:
            score = state.score
        elif rule.group_id in groups:
            score = groups[rule.group_id]
        else:
            return ""
        if score >= rule.min_score:
            return f"score {score} reached the {name} threshold ({rule.min_score})"
    elif rule.kind == TransitionKind.GRADE and rule.min_grade in GRADES and rule.min_grade:
        if state.grade in GRADES and state.grade and (
                GRADES.index(state.grade) <= GRADES.index(rule.min_grade)):
            return f"grade {state.grade} reached the {name} threshold ({rule.min_grade})"
    elif rule.kind == TransitionKind.BANT and state.meets_bant:
        return "BANT met"
    return ""


def _english_name(slug: str) -> str:
    d = stages.get(slug)
    return d.name_en if d else slug


def _apply(rules: list[StageThreshold], states: dict[int, _State],
           groups: dict[int, dict[int, int]], hits: dict[int, list[tuple[StageThreshold, str]]],
           *, primary: int | None, cause: str | None, notify: bool) -> int:
    """Each lead to the furthest target among the rules it meets; one move per target."""
    definitions = stages.definitions()
    detours = {s for s, d in definitions.items() if d.kind == StageDefinition.Kind.DETOUR}
    chosen: dict[int, tuple[int, StageThreshold, str]] = {}
    for lead_id, state in states.items():
        candidates = [(rule, _meets(rule, state, groups.get(lead_id, {}), primary))
                      for rule in rules if rule.kind in (TransitionKind.SCORE,
                                                         TransitionKind.GRADE,
                                                         TransitionKind.BANT)]
        candidates += hits.get(lead_id, [])
        for rule, reason in candidates:
            if not reason or state.stage not in (rule.from_stages or DEFAULT_FROM):
                continue
            if rule.stage == state.stage or rule.stage not in definitions:
                continue
            by_score_alone = rule.kind in (TransitionKind.SCORE, TransitionKind.GRADE)
            if by_score_alone and state.stage in detours and not state.own_event:
                continue
            if rule.kind == TransitionKind.CONTENT:
                reason = f"consumed high-intent content: {reason}"
            elif rule.kind == TransitionKind.EVENT:
                reason = f"event: {reason}"
            rank = definitions[rule.stage].position
            if lead_id not in chosen or rank > chosen[lead_id][0]:
                chosen[lead_id] = (rank, rule, reason)
    by_target: dict[tuple[str, str], list[tuple[Lead, str]]] = defaultdict(list)
    for lead_id, (_rank, rule, reason) in sorted(chosen.items()):
        lead = Lead(pk=lead_id, stage=states[lead_id].stage, score=states[lead_id].score)
        by_target[(rule.stage, cause or rule.kind)].append((lead, reason))
    moved = 0
    for (to_stage, why), moving in by_target.items():
        moved += len(move(moving, to_stage, actor=None, via=Event.Via.SYSTEM, cause=why,
                          notify=notify))
    return moved
