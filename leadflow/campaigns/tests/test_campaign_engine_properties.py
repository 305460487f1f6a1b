"""The campaign engine runs campaigns nobody wrote a test for (issue 12): hypothesis draws
small campaign graphs (actions, waits, decisions with and without time limits, A/B
splits, exits, links forward and back) with a goal, and a stream of lead events, clock
moves, runs and crashed runs; after every item of the stream the engine must agree with a
small reference walk of the same graph, and the invariants hold:

- each membership is in exactly one place (one active membership per campaign and lead,
  standing at a step that exists; a left one has its status, left_at, no due time);
- no step runs twice for one visit: the add-points effects are the visits made, once,
  also when a batch is run again or re-run after its worker died;
- a goal always exits (converted, at once);
- waits are never shortened, and a decision with a time limit takes "no" only after it,
  "yes" on the first run after the awaited event.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from leadflow.campaigns.engine import MAX_HOPS, run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step, StepStat
from leadflow.core import clock
from leadflow.leads.services import upsert_lead
from leadflow.tracking.models import Event, EventType
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
ENTRY, GOAL, PROBE = "signed_up", "bought", "asked_for_demo"
LEADS = 2
KINDS = ("add_points", "wait", "if_event", "if_visited", "split", "exit")
DECISIONS = ("if_event", "if_visited")
BRANCHING = (*DECISIONS, "split")


# --- what is drawn ---------------------------------------------------------------------

@dataclass(frozen=True)
class StepSpec:
    kind: str
    points: int = 0
    seconds: int = 0  # a wait's delay
    wait_in_config: bool = True  # the delay as a wait spec, else as wait_seconds
    within: int = 0  # a decision's time limit (0: decided at once)
    where: str | None = None  # a decision's property condition (plan / url)
    percent: int = 50
    next: int | None = None  # index of the yes/next step (None: the next position)
    no: int | None = None  # index of the no step (None: leaves)


@dataclass(frozen=True)
class CampaignSpec:
    steps: list[StepSpec]
    positions: list[int]
    goal_type: str
    goal_where: str | None  # the goal event's "range"
    entry_where: str | None  # the entry event's "plan"
    reentry: str
    reentry_seconds: int


@st.composite
def step_specs(draw: st.DrawFn, n: int) -> StepSpec:
    kind = draw(st.sampled_from(KINDS))
    link = st.none() | st.integers(0, n - 1)
    spec = StepSpec(kind=kind, next=draw(link))
    if kind == "add_points":
        return StepSpec(kind, points=draw(st.integers(-5, 10).filter(bool)), next=spec.next)
    if kind == "wait":
        return StepSpec(kind, seconds=draw(st.sampled_from([60, 3600, 86400])),
                        wait_in_config=draw(st.booleans()), next=spec.next)
    if kind in DECISIONS:
        return StepSpec(kind, within=draw(st.sampled_from([0, 3600, 86400])),
                        where=draw(st.sampled_from([None, "pro", "pricing"])),
                        next=spec.next, no=draw(link))
    if kind == "split":
        return StepSpec(kind, percent=draw(st.sampled_from([0, 30, 50, 100])),
                        next=spec.next, no=draw(link))
    return StepSpec(kind)


@st.composite
def campaigns(draw: st.DrawFn) -> CampaignSpec:
    n = draw(st.integers(3, 8))
    steps = [draw(step_specs(n)) for _ in range(n)]
    # Positions are names: a campaign may start anywhere and skip numbers.
    gap = draw(st.sampled_from([1, 10]))
    positions = [gap * (i + 1) for i in range(n)]
    goal_type = draw(st.sampled_from([GOAL, ENTRY]))
    return CampaignSpec(
        steps, positions, goal_type,
        # Entry and goal on the same event type differ by their conditions.
        goal_where=draw(st.sampled_from(["pans", None])) if goal_type == GOAL else "pans",
        entry_where=draw(st.sampled_from(["free", None])),
        reentry=draw(st.sampled_from([r.value for r in Campaign.Reentry])),
        reentry_seconds=draw(st.sampled_from([0, 3600])))


EVENTS = st.one_of(
    st.tuples(st.just(ENTRY), st.sampled_from([{}, {"plan": "free"}, {"range": "pans"}])),
    st.tuples(st.just(GOAL), st.sampled_from([{}, {"range": "pans"}, {"range": "pots"}])),
    st.tuples(st.just(PROBE), st.sampled_from([{}, {"plan": "pro"}, {"plan": "basic"}])),
    st.tuples(st.just(EventType.PAGE_VIEW),
              st.sampled_from([{"url": "https://shop.example.com/pricing"},
                               {"url": "https://shop.example.com/blog"}])))
ACTIONS = st.one_of(
    st.tuples(st.just("event"), st.integers(0, LEADS - 1), EVENTS),
    st.tuples(st.just("advance"), st.sampled_from([30, 600, 3600, 7200, 86400, 90000])),
    st.tuples(st.just("run")),
    st.tuples(st.just("crash")))
# Most streams begin with the entries, so that the graph is walked.
STREAMS = st.lists(ACTIONS, min_size=4, max_size=24).map(
    lambda actions: [("event", 0, (ENTRY, {"plan": "free"})), ("run",),
                     ("event", 1, (ENTRY, {})), *actions, ("run",)])


# --- the reference walk ----------------------------------------------------------------

def _cond(field_: str, value: str | None) -> list[dict[str, Any]]:
    return [{"field": field_, "op": "equals", "value": value}] if value else []


@dataclass
class Membership:
    lead: int
    entered_at: datetime
    pk: int | None = None
    position: int | None = None  # None: its first run is pending
    since: datetime | None = None
    loop: int = 0
    status: str = "active"


@dataclass
class Model:
    """What the engine should do, walked one membership at a time."""

    spec: CampaignSpec
    members: dict[int, list[Membership]] = field(default_factory=dict)  # by lead index
    events: dict[int, list[tuple[str, dict[str, Any], datetime]]] = field(default_factory=dict)
    effects: set[str] = field(default_factory=set)
    stats: dict[tuple[int, str], int] = field(default_factory=dict)

    def step(self, position: int) -> StepSpec:
        return self.spec.steps[self.spec.positions.index(position)]

    def count(self, position: int, what: str) -> None:
        self.stats[(position, what)] = self.stats.get((position, what), 0) + 1

    def event(self, lead: int, type_: str, props: dict[str, Any], now: datetime) -> None:
        self.events.setdefault(lead, []).append((type_, props, now))
        s = self.spec
        mine = self.members.setdefault(lead, [])
        active = [m for m in mine if m.status == "active"]
        if type_ == s.goal_type and _matches(_cond("range", s.goal_where), props):
            for m in active:
                m.status = "converted"
                self.count(m.position if m.position is not None else 1, "converted")
            return
        if type_ != ENTRY or not _matches(_cond("plan", s.entry_where), props):
            return
        if mine:
            last = mine[-1].entered_at
            if s.reentry == "never" or (s.reentry_seconds and now < last + timedelta(
                    seconds=s.reentry_seconds)):
                return
            if active and s.reentry != "always":
                return
            for m in active:  # "always": the running membership ends
                m.status = "exited"
        mine.append(Membership(lead, now))

    def run(self, now: datetime) -> None:
        for mine in self.members.values():
            for m in mine:
                if m.status == "active":
                    self.walk(m, now)

    def walk(self, m: Membership, now: datetime) -> None:
        positions = self.spec.positions
        if m.position is None:
            m.position, m.since = positions[0], now
            self.count(m.position, "entered")
        hops = 0
        while True:
            assert m.since is not None and m.pk is not None
            step = self.step(m.position)
            outcome = self.decide(step, m, now)
            if outcome == "wait":
                return
            if outcome == "leave":
                m.status = "exited"
                self.count(m.position, "exited")
                return
            index = positions.index(m.position)
            if outcome == "no":
                if step.no is None:
                    m.status = "exited"
                    self.count(m.position, "exited")
                    return
                target = step.no
            else:
                target = step.next if step.next is not None else index + 1
            self.count(m.position, "passed")
            if target >= len(positions):
                m.status = "completed"
                return
            hops += 1
            if hops > MAX_HOPS:
                m.status = "failed"
                return
            if positions[target] <= m.position:
                m.loop += 1
            m.position, m.since = positions[target], now
            self.count(m.position, "entered")

    def decide(self, step: StepSpec, m: Membership, now: datetime) -> str:
        assert m.since is not None
        if step.kind == "add_points":
            self.effects.add(_key(m))
            return "yes"
        if step.kind == "wait":
            return "yes" if now >= m.since + timedelta(seconds=step.seconds) else "wait"
        if step.kind == "split":
            digest = hashlib.sha256(_key(m).encode()).digest()
            return "yes" if int.from_bytes(digest[:4]) / 2**32 * 100 < step.percent else "no"
        if step.kind == "exit":
            return "leave"
        if _seen(step, self.events.get(m.lead, []), m.since):
            return "yes"
        if step.within and now < m.since + timedelta(seconds=step.within):
            return "wait"
        return "no"


def _matches(conditions: list[dict[str, Any]], props: dict[str, Any]) -> bool:
    return all(props.get(c["field"]) == c["value"] for c in conditions)


def _awaited(step: StepSpec, type_: str, props: dict[str, Any]) -> bool:
    if step.kind == "if_event":
        return type_ == PROBE and (step.where != "pro" or props.get("plan") == "pro")
    return type_ == EventType.PAGE_VIEW and (
        step.where != "pricing" or "/pricing" in props.get("url", ""))


def _seen(step: StepSpec, events: list[tuple[str, dict[str, Any], datetime]],
          since: datetime) -> bool:
    """Whether the lead did what the decision waits for since reaching it, and within its
    time limit: an event after the limit does not count, even when the membership is
    looked at late (a backlog of work)."""
    until = since + timedelta(seconds=step.within) if step.within else None
    return any(_awaited(step, t, p) and at >= since and (until is None or at < until)
               for t, p, at in events)


def _key(m: Membership) -> str:
    base = f"enrollment:{m.pk}:step:{m.position}"
    return f"{base}:{m.loop}" if m.loop else base


# --- the campaign in the database ------------------------------------------------------

def build(spec: CampaignSpec) -> Campaign:
    campaign = Campaign.objects.create(
        name="Generated", entry_event_type=ENTRY, entry_conditions=_cond("plan", spec.entry_where),
        goal_event_type=spec.goal_type, goal_conditions=_cond("range", spec.goal_where),
        reentry=spec.reentry, reentry_seconds=spec.reentry_seconds)
    rows = Step.objects.bulk_create([
        Step(campaign=campaign, position=p, kind=s.kind, points=s.points,
             wait_seconds=0 if s.wait_in_config else s.seconds, config=_config(s))
        for p, s in zip(spec.positions, spec.steps, strict=True)])
    for row, s in zip(rows, spec.steps, strict=True):
        if s.kind in (*BRANCHING, "add_points", "wait"):
            row.next_step = rows[s.next] if s.next is not None else None
            row.no_step = rows[s.no] if s.no is not None else None
    Step.objects.bulk_update(rows, ["next_step", "no_step"])
    return campaign


def _config(s: StepSpec) -> dict[str, Any]:
    if s.kind == "wait" and s.wait_in_config:
        return {"wait": {"kind": "delay", "seconds": s.seconds}}
    if s.kind == "if_event":
        return {"event_type": PROBE, "within_seconds": s.within,
                "where": _cond("plan", "pro" if s.where == "pro" else None)}
    if s.kind == "if_visited":
        return {"within_seconds": s.within,
                **({"url_contains": "/pricing"} if s.where == "pricing" else {})}
    if s.kind == "split":
        return {"percent": s.percent}
    return {}


FIELDS = ("pk", "lead_id", "status", "next_position", "step_since", "loop", "next_run_at",
          "left_at", "waits_for", "deadline", "claimed_by", "attempts")


def rows(campaign: Campaign) -> list[dict[str, Any]]:
    return list(Enrollment.objects.filter(campaign=campaign).order_by("pk").values(*FIELDS))


def crash(campaign: Campaign) -> None:
    """A worker runs the due batch and dies before it saves where its memberships stand:
    its effects are stored, the rows are as it found them (and its step counters, written
    in the same transaction as the rows, are lost with them); another worker runs them."""
    before = {r["pk"]: r for r in rows(campaign) if r["status"] == "active"}
    counters = list(StepStat.objects.filter(campaign=campaign).values())
    due = {pk for pk, r in before.items() if r["next_run_at"] <= clock.now()}
    run_due_enrollments()
    for pk in due:
        r = before[pk]
        Enrollment.objects.filter(pk=pk).update(
            status="active", left_at=None, exit_reason="", next_position=r["next_position"],
            step_since=r["step_since"], loop=r["loop"], waits_for=r["waits_for"],
            deadline=r["deadline"], next_run_at=clock.now(), claimed_by="dead-worker",
            attempts=r["attempts"] + 1)
    StepStat.objects.filter(campaign=campaign).delete()
    StepStat.objects.bulk_create([StepStat(**c) for c in counters])
    run_due_enrollments()


# --- the checks ------------------------------------------------------------------------

def check(model: Model, campaign: Campaign, leads: list[int], *, after_run: bool) -> None:
    now = clock.now()
    positions = set(model.spec.positions)
    found = rows(campaign)
    for i, lead_id in enumerate(leads):
        db = [r for r in found if r["lead_id"] == lead_id]
        mine = model.members.get(i, [])
        # Each membership is in exactly one place.
        assert sum(r["status"] == "active" for r in db) <= 1
        assert [r["status"] for r in db] == [m.status for m in mine], (i, db, mine)
        for r, m in zip(db, mine, strict=True):
            m.pk = r["pk"]
            if r["status"] == "active":
                assert r["left_at"] is None
                if m.position is None:
                    assert r["step_since"] is None and r["next_run_at"] <= now
                    continue
                assert r["next_position"] in positions
                assert (r["next_position"], r["step_since"], r["loop"]) == (
                    m.position, m.since, m.loop), (i, r, m)
                if after_run:  # nothing due is left behind, and nobody holds it
                    assert r["next_run_at"] > now and r["claimed_by"] == ""
                _waits_are_kept(model.step(m.position), r)
            else:
                assert r["left_at"] is not None and r["next_run_at"] is None
                assert r["status"] in ("completed", "exited", "converted", "failed")
    # No step runs twice for one visit: the points given are the visits made, once each.
    given_points = list(Event.objects.filter(
        type=EventType.CAMPAIGN_POINTS, properties__campaign_id=campaign.pk,
    ).values_list("idempotency_key", flat=True))
    assert sorted(given_points) == sorted(model.effects)
    stats = {(s.position, what): getattr(s, what)
             for s in StepStat.objects.filter(campaign=campaign)
             for what in ("entered", "passed", "exited", "converted") if getattr(s, what)}
    assert stats == model.stats


def _waits_are_kept(step: StepSpec, r: dict[str, Any]) -> None:
    """A membership standing at a wait or a decision is due no earlier than its wait or
    time limit says (an awaited event makes it due at once: then it is not waiting)."""
    if r["claimed_by"]:
        return
    if step.kind == "wait":
        assert r["next_run_at"] >= r["step_since"] + timedelta(seconds=step.seconds)
    if step.kind in DECISIONS and r["waits_for"]:
        assert r["deadline"] == r["step_since"] + timedelta(seconds=step.within)


def _moves_are_on_time(model: Model, before: list[dict[str, Any]],
                       after: list[dict[str, Any]]) -> None:
    """A run takes a membership past a wait only once it is over, and past a decision
    with a time limit only after the awaited event or once the limit is over."""
    now = clock.now()
    later = {r["pk"]: r for r in after}
    for r in before:
        if r["status"] != "active" or r["step_since"] is None:
            continue
        a = later[r["pk"]]
        moved = a["status"] != "active" or (a["next_position"], a["step_since"], a["loop"]) != (
            r["next_position"], r["step_since"], r["loop"])
        step = model.step(r["next_position"])
        if step.kind == "wait":
            over = now >= r["step_since"] + timedelta(seconds=step.seconds)
            assert moved == over, (r, a)
        elif step.kind in DECISIONS and step.within:
            lead = next(m.lead for ms in model.members.values() for m in ms if m.pk == r["pk"])
            seen = _seen(step, model.events.get(lead, []), r["step_since"])
            over = now >= r["step_since"] + timedelta(seconds=step.within)
            assert moved == (seen or over), (r, a)


# --- the property ----------------------------------------------------------------------

class _Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def _marketing(settings):
    settings.MARKETING_BASIS = "legitimate_interest"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(spec=campaigns(), stream=STREAMS)
def test_generated_campaigns_keep_the_engine_invariants(db, spec, stream):
    note(f"campaign: {spec!r}")
    note(f"stream: {stream!r}")
    try:
        with transaction.atomic(), clock.travel(T0):
            walk_the_stream(spec, stream)
            raise _Rollback
    except _Rollback:
        pass


def walk_the_stream(spec: CampaignSpec, stream: list[tuple[Any, ...]]) -> None:
    campaign = build(spec)
    leads = [upsert_lead({"email": f"lead{i}@example.com"})[0] for i in range(LEADS)]
    model = Model(spec)
    for action in stream:
        after_run = action[0] in ("run", "crash")
        if action[0] == "event":
            _, i, (type_, props) = action
            record_event(type_, lead=leads[i], properties=dict(props))
            model.event(i, type_, props, clock.now())
            _goal_exits(campaign, leads[i].pk, spec, type_, props)
        elif action[0] == "advance":
            clock.advance(timedelta(seconds=action[1]))
        else:
            before = rows(campaign)
            if action[0] == "run":
                run_due_enrollments()
                assert run_due_enrollments() == 0  # run again: nothing left to do
            else:
                crash(campaign)
            model.run(clock.now())
            _moves_are_on_time(model, before, rows(campaign))
        check(model, campaign, [lead.pk for lead in leads], after_run=after_run)


def _goal_exits(campaign: Campaign, lead_id: int, spec: CampaignSpec, type_: str,
                props: dict[str, Any]) -> None:
    if type_ == spec.goal_type and _matches(_cond("range", spec.goal_where), props):
        assert not Enrollment.objects.filter(campaign=campaign, lead_id=lead_id,
                                             status="active").exists()
        last = Enrollment.objects.filter(campaign=campaign, lead_id=lead_id).order_by(
            "pk").last()
        assert last is None or last.status in ("converted", "completed", "exited", "failed")
