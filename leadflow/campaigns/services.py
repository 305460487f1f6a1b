"""Campaigns: leads enter on an event, walk the steps, and leave at the goal.

Due steps are claimed from the database in batches by any number of workers
(`run_due_enrollments`); each step's effect is keyed by (enrollment, position), so a
step run twice after a crash does its work once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, transaction

from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.core import clock
from leadflow.core.errors import Conflict
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType

log = logging.getLogger(__name__)
# A claimed enrollment is hidden from other workers this long; if its worker dies, the
# lease runs out and another worker picks it up.
LEASE = timedelta(minutes=5)


def on_events(events: Sequence[Event]) -> None:
    """Pipeline consumer: enrol leads on entry events, release them on goal events."""
    types = {e.type for e in events}
    entering = list(Campaign.objects.filter(active=True, entry_event_type__in=types))
    goals = {c.pk: c for c in Campaign.objects.filter(goal_event_type__in=types)}
    for event in events:
        if goals:
            reached = [pk for pk, c in goals.items() if c.goal_event_type == event.type]
            for enrollment in Enrollment.objects.filter(
                    lead_id=event.lead_id, campaign_id__in=reached,
                    status=Enrollment.Status.ACTIVE):
                leave(enrollment, reason=f"goal reached: {event.type}")
        for campaign in entering:
            if campaign.entry_event_type == event.type:
                enroll(event.lead_id, campaign, only_if_new=True)


def enroll(lead_id: int, campaign: Campaign, *, only_if_new: bool = False) -> Enrollment | None:
    """Put a lead into a campaign, its first step due now. A lead already active in the
    campaign is not enrolled twice (None, or Conflict unless only_if_new)."""
    if Enrollment.objects.filter(lead_id=lead_id, campaign=campaign,
                                 status=Enrollment.Status.ACTIVE).exists():
        if only_if_new:
            return None
        raise Conflict(f"The lead is already in the campaign {campaign.name!r}.")
    now = clock.now()
    with transaction.atomic():
        enrollment = Enrollment.objects.create(campaign=campaign, lead_id=lead_id,
                                               entered_at=now, next_run_at=now)
        from leadflow.tracking.services import record_event

        record_event(EventType.CAMPAIGN_ENTERED, lead=Lead(pk=lead_id),
                     properties={"campaign_id": campaign.pk, "campaign": campaign.name})
    transaction.on_commit(_kick_worker)
    return enrollment


def _kick_worker() -> None:
    from leadflow.campaigns.tasks import run_due_enrollments_task

    try:
        run_due_enrollments_task.enqueue()
    except Exception:  # the periodic tick will pick the work up anyway
        log.exception("could not enqueue run_due_enrollments")


def leave(enrollment: Enrollment, *, reason: str,
          status: str = Enrollment.Status.EXITED) -> None:
    now = clock.now()
    updated = Enrollment.objects.filter(pk=enrollment.pk, status=Enrollment.Status.ACTIVE
                                        ).update(status=status, left_at=now, next_run_at=None,
                                                 exit_reason=reason[:200])
    if updated:
        from leadflow.tracking.services import record_event

        record_event(EventType.CAMPAIGN_LEFT, lead=Lead(pk=enrollment.lead_id),
                     properties={"campaign_id": enrollment.campaign_id, "reason": reason,
                                 "status": status})


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
        from leadflow.tracking.services import record_event

        # The event is on the timeline and keyed, so a step run twice gives points once.
        event, created = record_event(
            "campaign_points", lead=enrollment.lead, idempotency_key=key,
            properties={"campaign_id": enrollment.campaign_id, "points": step.points})
        if created:
            add_points(enrollment.lead, step.points, event=event,
                       reason=f"campaign {enrollment.campaign.name}")
