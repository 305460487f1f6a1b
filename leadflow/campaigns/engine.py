"""The campaign engine: claims due memberships in batches and walks each batch through
the graph, step by step, set-based.

A batch (`advance_batch`) reads its memberships, campaigns and steps once, then repeats:
group the memberships still walking by the step they stand at, hand each group to its
kind's handler (campaigns.steps), move those that go on to their next step. It stops for
each membership at a wait, a decision still waiting, the end, or an exit; then writes
where each one stands in one statement, the leavers in a few, and the step counters in
one per step. So a batch of 1,000 costs about what a batch of 10 does.

The batch runs in one transaction. If it raises, each membership is run again alone (its
own transaction), so that one bad lead cannot hold the others back: the one that raises
is retried with backoff (core.workqueue) and, after its last attempt, fails.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from leadflow.campaigns import steps
from leadflow.campaigns.models import Campaign, Enrollment, Step, StepStat
from leadflow.campaigns.walk import Walker
from leadflow.core import clock, workqueue
from leadflow.core.sqlarrays import bulk_set

log = logging.getLogger(__name__)
# A claimed membership is hidden from other workers this long; if its worker dies, the
# lease runs out and another worker picks it up.
LEASE = timedelta(minutes=5)
# Steps one membership may pass in one batch without a wait: more is a loop in the graph.
MAX_HOPS = 100
BATCH = 500


def claim_due(limit: int = BATCH, *, worker: str = "") -> workqueue.Claim:
    """Atomically claim up to `limit` due memberships for this worker (core.workqueue):
    hidden from other claimers for LEASE, renewed while the batch runs."""
    # A paused campaign's memberships hold where they stand: not claimed. (A subquery,
    # not a join: the claim's row locks must not take the campaign rows with them.)
    return workqueue.claim(Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE,
        campaign_id__in=Campaign.objects.filter(active=True).values("pk")),
        limit=limit, lease=LEASE, worker=worker, exhausted=_gave_up)


def run_due_enrollments(limit: int = BATCH, *, worker: str = "") -> int:
    """Claim and advance due memberships until none is left. Returns how many ran."""
    from leadflow.campaigns.services import wake_settled_emails

    done = 0
    while True:
        wake_settled_emails()
        claim = claim_due(limit, worker=worker)
        if not claim:
            return done
        done += len(claim.ids)
        try:
            with transaction.atomic():
                advance_batch(claim.ids, claim)
        except Exception:
            log.exception("a batch of %d campaign memberships failed: one at a time",
                          len(claim.ids))
            for pk in workqueue.each(claim):
                try:
                    with transaction.atomic():
                        advance_batch([pk], claim)
                except Exception as exc:
                    log.exception("campaign membership %s failed (attempt %s)", pk,
                                  claim.attempts.get(pk))
                    _attempt_failed(claim, pk, f"{type(exc).__name__}: {exc}")


def advance(enrollment_id: int, claim: workqueue.Claim | None = None) -> None:
    """Walk one membership from where it stands (a batch of one)."""
    with transaction.atomic():
        advance_batch([enrollment_id], claim)


def advance_batch(ids: list[int], claim: workqueue.Claim | None = None) -> None:
    """Walk the memberships `ids` (those still active) until each waits or leaves. With
    `claim`, writes only the rows the claim still holds."""
    now = clock.now()
    walkers = [Walker(pk, lead, campaign, position, entered, since, loop, waits_for,
                      deadline, waiting)
               for pk, lead, campaign, position, entered, since, loop, waits_for, deadline,
               waiting in Enrollment.objects.filter(
                   pk__among=ids, status=Enrollment.Status.ACTIVE).values_list(
                   "pk", "lead_id", "campaign_id", "next_position", "entered_at",
                   "step_since", "loop", "waits_for", "deadline", "waiting_for_id")]
    if not walkers:
        return
    campaign_ids = {w.campaign_id for w in walkers}
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=campaign_ids)}
    graph: dict[int, dict[int, Step]] = defaultdict(dict)
    for s in Step.objects.filter(campaign_id__in=campaign_ids).select_related("template"):
        graph[s.campaign_id][s.position] = s
    by_pk = {s.pk: s for g in graph.values() for s in g.values()}
    ctx = steps.Context(now, campaigns, lead_ids={w.lead_id for w in walkers})
    walking = []
    for w in walkers:
        campaign = campaigns.get(w.campaign_id)
        if campaign is None or campaign.archived:
            w.leave("campaign stopped")
            continue
        if not campaign.active:  # paused since the claim: it holds where it stands
            w.wait(now, waits_for=w.waits_for, deadline=w.deadline,
                   message_id=w.waiting_for_id)
            continue
        if w.step_since is None:  # just entered: at the first step from now
            first = min(graph[w.campaign_id], default=None)
            w.position = first if first is not None else w.position
            w.step_since = now
            w.counted.append((w.position, "entered"))
        walking.append(w)
    while walking:
        by_step: dict[tuple[int, int], list[Walker]] = defaultdict(list)
        for w in walking:
            by_step[(w.campaign_id, w.position)].append(w)
        walking = []
        for (campaign_id, position), group in by_step.items():
            step: Step | None = graph[campaign_id].get(position)
            if step is None:  # deleted meanwhile: on to the next one, if any
                step = min((s for p, s in graph[campaign_id].items() if p > position),
                           key=lambda s: s.position, default=None)
                for w in group:
                    if step is None:
                        w.leave("completed", Enrollment.Status.COMPLETED)
                    else:
                        w.position = step.position
                if step is None:
                    continue
            kind = steps.kind_of(step.kind)
            if kind is None:
                for w in group:
                    w.fail(f"unknown kind of step {step.kind!r}")
                continue
            for w in group:
                w.outcome = None
            kind.run(step, group, ctx)
            if kind.family == "action":
                _drop_gone(group, claim)
            for w in group:
                if w.outcome in ("yes", "no"):
                    _move_on(w, step, graph[campaign_id], by_pk, now)
                    if w.outcome is None:
                        walking.append(w)
                elif w.outcome in ("leave", "fail"):
                    w.counted.append((position, "exited"))
    # A membership the batch no longer holds (woken by an event meanwhile, or taken over
    # by another worker) is counted by the batch that walks it again, not by this one.
    stats: dict[tuple[int, int, str], int] = defaultdict(int)
    for w in _write(walkers, claim):
        for position, what in w.counted:
            stats[(w.campaign_id, position, what)] += 1
    _count(stats)


def _drop_gone(group: list[Walker], claim: workqueue.Claim | None) -> None:
    """An action's events went through the pipeline, which may have taken memberships out
    (a goal reached: converted at once) or woken them for another worker: those walk no
    further in this batch. One query per action step that lets some go on (a wait
    holds them all: _write checks those)."""
    if not any(w.outcome in ("yes", "no") for w in group):
        return
    held = _held(claim, [w.pk for w in group])
    for w in group:
        if w.pk not in held:
            w.outcome = "gone"


def _held(claim: workqueue.Claim | None, ids: list[int]) -> set[int]:
    """Which of `ids` this batch may still write: active, and held by its claim. One id
    array: with the claim's ids as a second one, PostgreSQL misjudged the rows to expect
    and walked the whole index of active memberships (170 ms a batch at 1M)."""
    rows = Enrollment.objects.filter(pk__among=ids, status=Enrollment.Status.ACTIVE)
    if claim is not None:
        rows = rows.filter(claimed_by=claim.token)
    return set(rows.values_list("pk", flat=True))


def _move_on(w: Walker, step: Step, graph: dict[int, Step], by_pk: dict[int, Step],
             now: datetime) -> None:
    """Take the yes or no path out of `step`; sets the walker walking again (outcome
    None) at its next step, or leaving."""
    target: Step | None
    if w.outcome == "no":
        target = by_pk.get(step.no_step_id) if step.no_step_id else None
        if target is None:  # no "no" path: the lead leaves the campaign from this step
            w.counted.append((step.position, "exited"))
            w.leave(f"step {step.position}: {step.kind_label}: no")
            return
    elif step.next_step_id:
        target = by_pk.get(step.next_step_id)
    else:
        target = min((s for p, s in graph.items() if p > step.position),
                     key=lambda s: s.position, default=None)
    w.counted.append((step.position, "passed"))
    if target is None:
        w.leave("completed", Enrollment.Status.COMPLETED)
        return
    w.hops += 1
    if w.hops > MAX_HOPS:
        w.fail(f"more than {MAX_HOPS} steps in a row without a wait: a loop in the graph?")
        return
    if target.position <= step.position:
        w.loop += 1
    w.position, w.step_since, w.outcome = target.position, now, None
    w.waits_for, w.deadline, w.waiting_for_id = "", None, None
    w.counted.append((target.position, "entered"))


def _write(walkers: list[Walker], claim: workqueue.Claim | None) -> list[Walker]:
    """Where each membership stands now: waiting ones in one UPDATE, leavers after.
    Returns the walkers written (those the claim still held)."""
    from leadflow.campaigns.services import leave_walkers

    held = _held(claim, [w.pk for w in walkers])
    mine = [w for w in walkers if w.pk in held and w.outcome != "gone"]
    waiting = [w for w in mine if w.outcome == "wait"]
    if waiting:
        bulk_set(Enrollment, [(w.pk, w.position, w.due, w.step_since, w.waits_for, w.deadline,
                               w.loop, w.waiting_for_id, "", 0) for w in waiting],
                 ["next_position", "next_run_at", "step_since", "waits_for", "deadline",
                  "loop", "waiting_for", "claimed_by", "attempts"])
    leaving = [w for w in mine if w.outcome == "leave"]
    if leaving:
        leave_walkers(leaving)
    for w in mine:
        if w.outcome == "fail":
            from leadflow.campaigns.services import step_failed

            step_failed(w, w.reason)
    return mine


def count_converted(at: list[tuple[int, int]]) -> None:
    stats: dict[tuple[int, int, str], int] = defaultdict(int)
    for campaign_id, position in at:
        stats[(campaign_id, position, "converted")] += 1
    _count(stats)


def _count(stats: dict[tuple[int, int, str], int]) -> None:
    """Add the batch's numbers to the step counters: one statement per step."""
    per_step: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for (campaign_id, position, what), n in stats.items():
        per_step[(campaign_id, position)][what] = n
    if not per_step:
        return
    StepStat.objects.bulk_create([StepStat(campaign_id=c, position=p)
                                  for c, p in per_step], ignore_conflicts=True)
    for (campaign_id, position), counts in per_step.items():
        StepStat.objects.filter(campaign_id=campaign_id, position=position).update(
            **{what: F(what) + n for what, n in counts.items()})


def _gave_up(claim: workqueue.Claim) -> None:
    """Memberships whose worker died during their last attempt take the failure path."""
    for pk in claim.ids:
        _attempt_failed(claim, pk, "the worker stopped during the last attempt")


@transaction.atomic
def _attempt_failed(claim: workqueue.Claim, pk: int, error: str) -> None:
    from leadflow.campaigns.services import step_failed

    if workqueue.retry(claim, pk, error, final={}):
        row = Enrollment.objects.filter(pk=pk).values_list(
            "lead_id", "campaign_id", "next_position", "entered_at", "step_since",
            "loop").first()
        if row is not None:
            step_failed(Walker(pk, *row),
                        f"failed {claim.attempts.get(pk)} times: {error}")


