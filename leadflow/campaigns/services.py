"""Campaigns: leads enter on an event, walk the steps, and leave at the goal.

Due steps are claimed from the database in batches by any number of workers
(`run_due_enrollments`); each step's effect is keyed by (enrollment, position), so a
step run twice after a crash does its work once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet

from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock
from leadflow.core.errors import Conflict
from leadflow.core.pipeline import Batch
from leadflow.tracking.models import EventType

log = logging.getLogger(__name__)
# A claimed enrollment is hidden from other workers this long; if its worker dies, the
# lease runs out and another worker picks it up.
LEASE = timedelta(minutes=5)


def on_events(batch: Batch) -> None:
    """Pipeline step: enrol leads on entry events, release them on goal events.

    Set-based: a few queries per campaign concerned, whatever the number of events. Within
    a batch, events count in their order: a goal event makes an active lead leave, and a
    lead whose last event for a campaign is its entry event ends up enrolled.
    """
    events = batch.events
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


def enroll(lead_id: int, campaign: Campaign, *, only_if_new: bool = False) -> Enrollment | None:
    """Put a lead into a campaign, its first step due now. A lead already active in the
    campaign is not enrolled twice (None, or Conflict unless only_if_new)."""
    created = enroll_many([lead_id], campaign)
    if created:
        return created[0]
    if only_if_new:
        return None
    raise Conflict(f"The lead is already in the campaign {campaign.name!r}.")


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
        status=status, left_at=clock.now(), next_run_at=None, exit_reason=reason[:200])
    record_events([NewEvent(type=EventType.CAMPAIGN_LEFT, lead_id=lead_id,
                            properties={"campaign_id": campaign_id, "reason": reason,
                                        "status": status})
                   for _, lead_id, campaign_id in leaving])
    return len(leaving)


def claim_due(limit: int = 100) -> list[int]:
    """Atomically claim up to `limit` due enrollments for this worker; returns their ids.

    On PostgreSQL rows locked by another worker are skipped (SKIP LOCKED); on SQLite the
    write lock serialises claimers. Claiming pushes next_run_at forward by a lease.
    """
    now = clock.now()
    with transaction.atomic():
        due = (Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, next_run_at__lte=now)
               .order_by("next_run_at").values_list("pk", flat=True)[:limit])
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due)
        if ids:
            Enrollment.objects.filter(pk__in=ids).update(next_run_at=now + LEASE)
    return ids


def run_due_enrollments(limit: int = 100) -> int:
    """Claim and advance due enrollments until none is left. Returns how many ran."""
    done = 0
    while ids := claim_due(limit):
        for enrollment_id in ids:
            try:
                advance(enrollment_id)
            except Exception:
                log.exception("campaign enrollment %s failed; it will be retried", enrollment_id)
            done += 1
    return done


def advance(enrollment_id: int) -> None:
    """Run an enrollment's steps from where it stands until a wait or the end.

    Tolerates a deleted enrollment, lead or campaign, and a campaign switched off.
    """
    enrollment = (Enrollment.objects.select_related("campaign", "lead")
                  .filter(pk=enrollment_id, status=Enrollment.Status.ACTIVE).first())
    if enrollment is None:
        return
    if not enrollment.campaign.active:
        leave(enrollment, reason="campaign stopped")
        return
    steps = {s.position: s for s in Step.objects.filter(campaign=enrollment.campaign)
             .select_related("template")}
    position = enrollment.next_position
    for position in sorted(p for p in steps if p >= enrollment.next_position):
        step = steps[position]
        if step.kind == Step.Kind.WAIT and step.wait_seconds:
            Enrollment.objects.filter(pk=enrollment.pk).update(
                next_position=position + 1,
                next_run_at=clock.now() + timedelta(seconds=step.wait_seconds))
            return
        _run_step(enrollment, step)
        Enrollment.objects.filter(pk=enrollment.pk).update(next_position=position + 1)
    leave(enrollment, reason="completed", status=Enrollment.Status.COMPLETED)


def _run_step(enrollment: Enrollment, step: Step) -> None:
    key = f"enrollment:{enrollment.pk}:step:{step.position}"
    if step.kind == Step.Kind.SEND_EMAIL and step.template is not None:
        from leadflow.emails.services import send_template

        send_template(enrollment.lead, step.template, dedupe_key=key,
                      campaign_id=enrollment.campaign_id)
    elif step.kind == Step.Kind.ADD_POINTS and step.points:
        from leadflow.scoring.services import add_points

        # Keyed by the step, so a step run twice gives its points once.
        add_points(enrollment.lead, step.points, f"campaign {enrollment.campaign.name}",
                   event_type=EventType.CAMPAIGN_POINTS, idempotency_key=key,
                   extra={"campaign_id": enrollment.campaign_id})
