"""Campaigns: leads enter on an event, walk the steps, and leave at the goal.

Due steps are claimed from the database in batches by any number of workers
(`run_due_enrollments`); each step's effect is keyed by (enrollment, position), so a
step run twice after a crash does its work once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock, failpoints, workqueue
from leadflow.core.errors import Conflict
from leadflow.core.pipeline import Batch
from leadflow.leads.models import Lead, LeadMerge
from leadflow.tracking.events import is_machine
from leadflow.tracking.models import EventType

log = logging.getLogger(__name__)
# A claimed enrollment is hidden from other workers this long; if its worker dies, the
# lease runs out and another worker picks it up.
LEASE = timedelta(minutes=5)
# A step waiting for its email looks at it this often even when nothing wakes it up.
EMAIL_CHECK = timedelta(minutes=10)


def on_events(batch: Batch) -> None:
    """Pipeline step: enrol leads on entry events, release them on goal events.

    Set-based: a few queries per campaign concerned, whatever the number of events. Within
    a batch, events count in their order: a goal event makes an active lead leave, and a
    lead whose last event for a campaign is its entry event ends up enrolled.
    """
    # A stage move saved without hand-offs or campaign entries (the editor's choice on a
    # rule change) is not a trigger, nor a proxy's open or a scanner's click of an email.
    events = [e for e in batch.events if not (
        e.type == EventType.STAGE_CHANGED and (e.properties or {}).get("notify") is False)
        and not is_machine(e)]
    types = {e.type for e in events}
    campaigns = list(Campaign.objects.filter(
        Q(active=True, entry_event_type__in=types) | Q(goal_event_type__in=types)))
    for campaign in campaigns:
        reached_goal: set[int] = set()
        last: dict[int, str] = {}  # lead id -> "entry" or "goal", the later one wins
        for event in events:
            if (lead_id := event.lead_id) is None:  # the pipeline passes known leads only
                continue
            if campaign.goal_event_type and event.type == campaign.goal_event_type:
                reached_goal.add(lead_id)
                last[lead_id] = "goal"
            elif campaign.active and event.type == campaign.entry_event_type:
                last[lead_id] = "entry"
        if reached_goal:
            _leave(Enrollment.objects.filter(campaign=campaign, lead_id__in=reached_goal),
                   reason=f"goal reached: {campaign.goal_event_type}")
        entering = [lead_id for lead_id, what in last.items() if what == "entry"]
        if entering:
            enroll_many(entering, campaign)


def on_merging(sender: object, *, keep: Lead, other: Lead, **_: object) -> dict[str, list[int]]:
    """leads.signals.merging: one active enrollment per campaign, so the merged lead's
    duplicate one ends. Its ids go in the merge audit, for the undo."""
    clash = Enrollment.objects.filter(
        lead=other, status=Enrollment.Status.ACTIVE,
        campaign__in=Enrollment.objects.filter(lead=keep, status=Enrollment.Status.ACTIVE)
        .values("campaign"))
    exited = list(clash.values_list("pk", flat=True))
    clash.update(status=Enrollment.Status.EXITED, left_at=clock.now(),
                 exit_reason="merged into another lead")
    return {"exited_enrollments": exited}


def on_merge_undone(sender: object, *, audit: LeadMerge, restored: Lead,
                    **_: object) -> None:
    """leads.signals.merge_undone: the enrollments the merge ended run again (the audit
    key is the one on_merging wrote; merges recorded before the hook used it too)."""
    Enrollment.objects.filter(pk__in=audit.moved.get("exited_enrollments", []),
                              lead=restored).update(status=Enrollment.Status.ACTIVE,
                                                    left_at=None, exit_reason="")


def enroll(lead_id: int, campaign: Campaign, *, only_if_new: bool = False) -> Enrollment | None:
    """Put a lead into a campaign, its first step due now. A lead already active in the
    campaign is not enrolled twice (None, or Conflict unless only_if_new)."""
    created = enroll_many([lead_id], campaign)
    if created:
        return created[0]
    if only_if_new:
        return None
    raise Conflict(_("The lead is already in the campaign %(name)r.") % {"name": campaign.name})


def enroll_many(lead_ids: Sequence[int], campaign: Campaign) -> list[Enrollment]:
    """Enrol the leads not already active in `campaign` (one `campaign_entered` event
    each), their first step due now; a worker is kicked after commit. Returns the new
    enrollments."""
    from leadflow.tracking.services import NewEvent, record_events

    wanted = list(dict.fromkeys(lead_ids))
    try:
        with transaction.atomic():
            active = set(Enrollment.objects.filter(
                campaign=campaign, lead_id__in=wanted, status=Enrollment.Status.ACTIVE)
                .values_list("lead_id", flat=True))
            now = clock.now()
            created = Enrollment.objects.bulk_create([
                Enrollment(campaign=campaign, lead_id=lead_id, entered_at=now, next_run_at=now)
                for lead_id in wanted if lead_id not in active])
    except IntegrityError:
        # A concurrent batch enrolled some of them meanwhile: one by one, skipping those.
        if len(wanted) == 1:
            return []
        return [e for lead_id in wanted for e in enroll_many([lead_id], campaign)]
    if created:
        record_events([NewEvent(type=EventType.CAMPAIGN_ENTERED, lead_id=e.lead_id,
                                properties={"campaign_id": campaign.pk,
                                            "campaign": campaign.name})
                       for e in created])
        transaction.on_commit(_kick_worker)
    return created


def _kick_worker() -> None:
    from leadflow.campaigns.tasks import run_due_enrollments_task

    try:
        run_due_enrollments_task.enqueue()
    except Exception:  # the periodic tick will pick the work up anyway
        log.exception("could not enqueue run_due_enrollments")


def leave(enrollment: Enrollment, *, reason: str,
          status: str = Enrollment.Status.EXITED) -> None:
    _leave(Enrollment.objects.filter(pk=enrollment.pk), reason=reason, status=status)


@transaction.atomic
def _leave(enrollments: QuerySet[Enrollment], *, reason: str,
           status: str = Enrollment.Status.EXITED) -> int:
    """End the active ones among `enrollments`, with one `campaign_left` event each."""
    from leadflow.tracking.services import NewEvent, record_events

    # Locked (PostgreSQL), so that an enrollment left twice at once is recorded once.
    leaving = list(enrollments.select_for_update().filter(status=Enrollment.Status.ACTIVE)
                   .order_by("pk").values_list("pk", "lead_id", "campaign_id"))
    if not leaving:
        return 0
    Enrollment.objects.filter(pk__in=[pk for pk, _, _ in leaving]).update(
        status=status, left_at=clock.now(), next_run_at=None, exit_reason=reason[:200],
        claimed_by="")
    record_events([NewEvent(type=EventType.CAMPAIGN_LEFT, lead_id=lead_id,
                            properties={"campaign_id": campaign_id, "reason": reason,
                                        "status": status})
                   for _, lead_id, campaign_id in leaving])
    return len(leaving)


def claim_due(limit: int = 100, *, worker: str = "") -> workqueue.Claim:
    """Atomically claim up to `limit` due enrollments for this worker (core.workqueue):
    hidden from other claimers for LEASE, renewed while the batch runs."""
    return workqueue.claim(Enrollment.objects.filter(status=Enrollment.Status.ACTIVE),
                           limit=limit, lease=LEASE, worker=worker, exhausted=_gave_up)


def _gave_up(claim: workqueue.Claim) -> None:
    """Enrollments whose worker died during their last attempt take the failure path."""
    for enrollment_id in claim.ids:
        _attempt_failed(claim, enrollment_id, "the worker stopped during the last attempt")


def run_due_enrollments(limit: int = 100, *, worker: str = "") -> int:
    """Claim and advance due enrollments until none is left. Returns how many ran.

    A step that raises is retried with backoff; after Enrollment.max_attempts the
    enrollment ends as failed, with `campaign_step_failed` on the lead's timeline."""
    done = 0
    while True:
        # Before each claim: an email sent meanwhile lets its step go on now.
        _wake_waiting()
        claim = claim_due(limit, worker=worker)
        if not claim:
            return done
        for enrollment_id in workqueue.each(claim):
            try:
                advance(enrollment_id, claim)
            except Exception as exc:
                log.exception("campaign enrollment %s failed (attempt %s)", enrollment_id,
                              claim.attempts.get(enrollment_id))
                _attempt_failed(claim, enrollment_id, f"{type(exc).__name__}: {exc}")
            done += 1


def _wake_waiting() -> int:
    """Make send steps whose email is settled (sent, skipped, failed for good) due now."""
    from leadflow.emails.models import EmailMessage

    now = clock.now()
    return Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE, claimed_by="", next_run_at__gt=now,
        waiting_for__status__in=(EmailMessage.Status.SENT, EmailMessage.Status.SKIPPED,
                                 EmailMessage.Status.FAILED)).update(next_run_at=now)


@transaction.atomic
def _attempt_failed(claim: workqueue.Claim, enrollment_id: int, error: str) -> None:
    if workqueue.retry(claim, enrollment_id, error, final={}):
        enrollment = Enrollment.objects.select_related("campaign", "lead").get(pk=enrollment_id)
        _step_failed(enrollment, enrollment.next_position,
                     f"failed {claim.attempts.get(enrollment_id)} times: {error}")


def _step_failed(enrollment: Enrollment, position: int, error: str) -> None:
    """A step's failure path: recorded on the timeline, and the lead leaves the campaign
    (status failed) rather than receive the steps after one it never got."""
    from leadflow.tracking.services import record_event

    record_event(EventType.CAMPAIGN_STEP_FAILED, lead=enrollment.lead,
                 idempotency_key=f"enrollment:{enrollment.pk}:step:{position}:failed",
                 properties={"campaign_id": enrollment.campaign_id,
                             "campaign": enrollment.campaign.name, "position": position,
                             "error": error[:500]})
    _leave(Enrollment.objects.filter(pk=enrollment.pk), reason=f"step {position}: {error}",
           status=Enrollment.Status.FAILED)


def advance(enrollment_id: int, claim: workqueue.Claim | None = None) -> None:
    """Run an enrollment's steps from where it stands until a wait, an email still on its
    way, or the end. With `claim`, writes only while the claim still holds the row.

    Tolerates a deleted enrollment, lead or campaign, and a campaign switched off.
    """
    from leadflow.emails.models import EmailMessage

    enrollment = (Enrollment.objects.select_related("campaign", "lead")
                  .filter(pk=enrollment_id, status=Enrollment.Status.ACTIVE).first())
    if enrollment is None:
        return
    if not enrollment.campaign.active:
        leave(enrollment, reason="campaign stopped")
        return
    held = (claim.held() if claim else Enrollment.objects).filter(pk=enrollment.pk)
    steps = {s.position: s for s in Step.objects.filter(campaign=enrollment.campaign)
             .select_related("template")}
    # Progress made: the next claim starts a fresh attempt count.
    release = {"claimed_by": "", "attempts": 0, "waiting_for": None}
    for position in sorted(p for p in steps if p >= enrollment.next_position):
        step = steps[position]
        if step.kind == Step.Kind.WAIT and step.wait_seconds:
            held.update(next_position=position + 1,
                        next_run_at=clock.now() + timedelta(seconds=step.wait_seconds),
                        **release)
            return
        if step.kind in DECISIONS and not _engaged(enrollment, step):
            leave(enrollment, reason=f"step {position}: {step.get_kind_display()}: no")
            return
        message = _run_step(enrollment, step)
        if message is not None and message.status in (EmailMessage.Status.QUEUED,
                                                      EmailMessage.Status.SENDING):
            held.update(next_position=position, next_run_at=clock.now() + EMAIL_CHECK,
                        **{**release, "waiting_for": message})
            return
        if message is not None and message.status == EmailMessage.Status.FAILED:
            _step_failed(enrollment, position, f"email not sent: {message.error}")
            return
        if not held.update(next_position=position + 1, waiting_for=None):
            return  # the lease was lost: the worker holding it now goes on
    leave(enrollment, reason="completed", status=Enrollment.Status.COMPLETED)


DECISIONS: dict[str, Literal["open", "click"]] = {Step.Kind.IF_OPENED: "open",
                                                  Step.Kind.IF_CLICKED: "click"}


def _engaged(enrollment: Enrollment, step: Step) -> bool:
    """Whether the lead opened (clicked) one of this campaign's emails: a person's
    engagement only, unless the step counts machines too."""
    from leadflow.emails.engagement import engaged_leads

    return enrollment.lead_id in engaged_leads(
        [enrollment.lead_id], DECISIONS[step.kind], campaign_id=enrollment.campaign_id,
        human_only=not step.count_machines)


def _run_step(enrollment: Enrollment, step: Step):
    """Do a step's work (once per step, whatever the number of runs); a send step returns
    its queued message."""
    key = f"enrollment:{enrollment.pk}:step:{step.position}"
    failpoints.hit("campaign.step")
    if step.kind == Step.Kind.SEND_EMAIL and step.template is not None:
        from leadflow.emails.services import send_template
        from leadflow.lists import testmode

        campaign = enrollment.campaign
        if testmode.held_back(campaign.test_mode, campaign.test_list_id, enrollment.lead_id):
            return testmode.skip_outside_test_list(enrollment.lead, step.template,
                                                   dedupe_key=key,
                                                   campaign_id=enrollment.campaign_id)
        return send_template(enrollment.lead, step.template, dedupe_key=key,
                             campaign_id=enrollment.campaign_id)
    if step.kind == Step.Kind.ADD_POINTS and step.points:
        from leadflow.scoring.services import add_points

        # Keyed by the step, so a step run twice gives its points once.
        add_points(enrollment.lead, step.points, f"campaign {enrollment.campaign.name}",
                   event_type=EventType.CAMPAIGN_POINTS, idempotency_key=key,
                   extra={"campaign_id": enrollment.campaign_id})
    return None
