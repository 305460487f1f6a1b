"""Campaign memberships: entering (with the re-entry policy), leaving, converting at the
goal, failing. The walk itself is campaigns.engine; what starts and ends memberships
from the event pipeline is campaigns.entry."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.campaigns.walk import Walker
from leadflow.core import clock
from leadflow.core.errors import Conflict
from leadflow.core.sqlarrays import builder, bulk_insert
from leadflow.leads.models import Lead, LeadMerge
from leadflow.tracking.models import EventType

log = logging.getLogger(__name__)


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
    """Enrol the leads the campaign's re-entry policy lets in (one `campaign_entered`
    event each), at its first step, due now; a worker is kicked after commit. Returns
    the new memberships. A constant number of queries.

    never: a lead enters once; after_exit: again once it has left; always: every time,
    the running membership ends ("entered again"). With a minimum interval, not before
    that long after the last entry."""
    from leadflow.tracking.services import NewEvent, record_events

    wanted = list(dict.fromkeys(lead_ids))
    if not wanted:
        return []
    R = Campaign.Reentry
    try:
        with transaction.atomic():
            now = clock.now()
            past: dict[int, tuple[bool, object]] = {}  # lead -> (active?, last entry)
            for lead_id, status, entered in Enrollment.objects.filter(
                    campaign=campaign, lead_id__among=wanted).order_by("entered_at").values_list(
                    "lead_id", "status", "entered_at"):
                active = past.get(lead_id, (False, None))[0] or status == "active"
                past[lead_id] = (active, entered)
            interval = timedelta(seconds=campaign.reentry_seconds)
            restart: list[int] = []
            entering: list[int] = []
            for lead_id in wanted:
                if lead_id not in past:
                    entering.append(lead_id)
                    continue
                active, last = past[lead_id]
                if campaign.reentry == R.NEVER or (interval and last is not None
                                                   and now < last + interval):  # type: ignore[operator]
                    continue
                if active and campaign.reentry == R.ALWAYS:
                    restart.append(lead_id)
                if not active or campaign.reentry == R.ALWAYS:
                    entering.append(lead_id)
            if restart:
                _leave(Enrollment.objects.filter(campaign=campaign, lead_id__among=restart),
                       reason="entered again")
            # At the first step (the lowest position: the engine goes on to it when
            # there is no step 1); no step_since until the engine first walks it, which
            # counts it entered there.
            created = _insert(campaign, entering, now)
    except _INTEGRITY:
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


def _insert(campaign: Campaign, lead_ids: list[int], now: datetime) -> list[Enrollment]:
    """New memberships at step 1, due now (sqlarrays.bulk_insert: COPY on PostgreSQL;
    bulk_create cost more than the rest of an enrolment of 5,000)."""
    build = builder(Enrollment, _FIELDS)
    fresh = {"campaign_id": campaign.pk, "entered_at": now, "next_run_at": now}
    rows = [build(*[lead_id if f == "lead_id" else fresh.get(f, _DEFAULTS.get(f))
                    for f in _FIELDS]) for lead_id in lead_ids]
    bulk_insert(Enrollment, rows, _FIELDS[1:])
    return rows


_FIELDS = tuple(f.attname for f in Enrollment._meta.concrete_fields)
_DEFAULTS = {f.attname: f.get_default() for f in Enrollment._meta.concrete_fields}
# A unique index violated while COPYing raises psycopg's own IntegrityError.
try:
    from psycopg.errors import IntegrityError as _PsycopgIntegrity

    _INTEGRITY: tuple[type[Exception], ...] = (IntegrityError, _PsycopgIntegrity)
except ImportError:  # pragma: no cover (psycopg is a dependency)
    _INTEGRITY = (IntegrityError,)


def _kick_worker() -> None:
    from leadflow.campaigns.tasks import run_due_enrollments_task

    try:
        run_due_enrollments_task.enqueue()
    except Exception:  # the periodic tick will pick the work up anyway
        log.exception("could not enqueue run_due_enrollments")


def enrol_segment_members(campaign: Campaign) -> int:
    """A campaign that enters on a segment, switched on: the segment's current members
    enter (re-entry policy applies), in chunks. Returns how many entered."""
    from leadflow.segments.models import SegmentMember

    if campaign.entry_segment_id is None or not campaign.active or campaign.archived:
        return 0
    members = SegmentMember.objects.filter(segment_id=campaign.entry_segment_id).order_by(
        "lead_id").values_list("lead_id", flat=True)
    entered, after = 0, 0
    while chunk := list(members.filter(lead_id__gt=after)[:5000]):
        entered += len(enroll_many(chunk, campaign))
        after = chunk[-1]
    return entered


def leave_all(enrollments: QuerySet[Enrollment], *, reason: str) -> int:
    """End the active ones among `enrollments` (e.g. those at a step the editor removed):
    one `campaign_left` event each; a few statements."""
    return _leave(enrollments, reason=reason)


def leave_walkers(walkers: Sequence[Walker]) -> None:
    """End the memberships the engine says leave: one statement per reason."""
    by_reason: dict[tuple[str, str], list[int]] = defaultdict(list)
    for w in walkers:
        by_reason[(w.reason, w.status or Enrollment.Status.EXITED)].append(w.pk)
    for (reason, status), ids in by_reason.items():
        _leave(Enrollment.objects.filter(pk__in=ids), reason=reason, status=status)


@transaction.atomic
def _leave(enrollments: QuerySet[Enrollment], *, reason: str,
           status: str = Enrollment.Status.EXITED) -> int:
    """End the active ones among `enrollments`, with one `campaign_left` event each."""
    from leadflow.tracking.services import NewEvent, record_events

    # Locked (PostgreSQL), so that a membership left twice at once is recorded once.
    leaving = list(enrollments.select_for_update().filter(status=Enrollment.Status.ACTIVE)
                   .order_by("pk").values_list("pk", "lead_id", "campaign_id"))
    if not leaving:
        return 0
    Enrollment.objects.filter(pk__in=[pk for pk, _, _ in leaving]).update(
        status=status, left_at=clock.now(), next_run_at=None, exit_reason=reason[:200],
        claimed_by="", waits_for="", deadline=None)
    record_events([NewEvent(type=EventType.CAMPAIGN_LEFT, lead_id=lead_id,
                            properties={"campaign_id": campaign_id, "reason": reason,
                                        "status": status})
                   for _, lead_id, campaign_id in leaving])
    return len(leaving)


def convert(enrollments: QuerySet[Enrollment], *, goal: str) -> int:
    """The goal is reached: the memberships leave at once, counted as conversions at the
    step each stood at."""
    from leadflow.campaigns.engine import count_converted

    at = list(enrollments.filter(status=Enrollment.Status.ACTIVE).values_list(
        "campaign_id", "next_position"))
    left = _leave(enrollments, reason=f"goal reached: {goal}",
                  status=Enrollment.Status.CONVERTED)
    if left:
        count_converted(at)
    return left


def wake_settled_emails() -> int:
    """Make send steps whose email is settled (sent, skipped, failed for good) due now."""
    from leadflow.emails.models import EmailMessage

    now = clock.now()
    return Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE, claimed_by="", next_run_at__gt=now,
        waiting_for__status__in=(EmailMessage.Status.SENT, EmailMessage.Status.SKIPPED,
                                 EmailMessage.Status.FAILED)).update(next_run_at=now)


def step_failed(w: Walker, error: str) -> None:
    """A step's failure path: recorded on the timeline, and the lead leaves the campaign
    (status failed) rather than receive the steps after one it never got."""
    from leadflow.tracking.services import NewEvent, record_events

    campaign = Campaign.objects.filter(pk=w.campaign_id).values_list("name", flat=True).first()
    record_events([NewEvent(
        EventType.CAMPAIGN_STEP_FAILED, lead_id=w.lead_id,
        idempotency_key=f"{w.key()}:failed",
        properties={"campaign_id": w.campaign_id, "campaign": campaign or "",
                    "position": w.position, "error": error[:500]})])
    _leave(Enrollment.objects.filter(pk=w.pk), reason=f"step {w.position}: {error}",
           status=Enrollment.Status.FAILED)
