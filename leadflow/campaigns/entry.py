"""The event pipeline's campaign step: who enters, who reaches a goal, and which waiting
decisions to wake, for a whole batch of events at once.

- Entry on an event (with property conditions), or on the score reaching a threshold
  (crossing it upwards in this batch).
- Goal: an event with property conditions takes the lead out at once wherever it stands,
  counted as a conversion. Within a batch events count in their order: a goal makes an
  active lead leave, and a lead whose last event for a campaign is its entry ends up in.
- Wake-ups: memberships waiting for an event type this batch has (for this lead) are made
  due now, in one UPDATE that also takes them from any worker holding them (that worker's
  write is then dropped: core.workqueue), so the decision is taken again with the event
  seen, within seconds.
"""

from __future__ import annotations

from django.db.models import Q

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import clock
from leadflow.core.pipeline import Batch
from leadflow.scoring.conditions import matches
from leadflow.tracking.events import is_machine
from leadflow.tracking.models import EventType

# Events that settle a send step's email (it waits for "email").
EMAIL_SETTLED = frozenset({EventType.EMAIL_SENT, EventType.EMAIL_SKIPPED,
                           EventType.EMAIL_FAILED})


def on_events(batch: Batch) -> None:
    """Pipeline step. A few queries per campaign concerned, whatever the number of
    events."""
    from leadflow.campaigns.services import convert, enroll_many

    _wake(batch)
    # A stage move saved without hand-offs or campaign entries (the editor's choice on a
    # rule change) is not a trigger, nor a proxy's open or a scanner's click of an email.
    events = [e for e in batch.events if e.lead_id is not None and not (
        e.type == EventType.STAGE_CHANGED and (e.properties or {}).get("notify") is False)
        and not is_machine(e)]
    types = {e.type for e in events}
    wanted = Q(active=True, archived=False, entry_event_type__in=types) | Q(
        goal_event_type__in=types)
    if batch.score_formula is not None:
        wanted |= Q(active=True, archived=False, entry_score__isnull=False)
    for campaign in Campaign.objects.filter(wanted):
        last: dict[int, str] = {}  # lead id -> "entry" or "goal", the later one wins
        for event in events:
            props = event.properties or {}
            if event.type == campaign.goal_event_type and matches(campaign.goal_conditions,
                                                                  props):
                last[event.lead_id] = "goal"  # type: ignore[index]
            elif (campaign.active and event.type == campaign.entry_event_type
                  and matches(campaign.entry_conditions, props)):
                last[event.lead_id] = "entry"  # type: ignore[index]
        for lead_id in _crossed(batch, campaign):
            last.setdefault(lead_id, "entry")
        reached = [lead_id for lead_id, what in last.items() if what == "goal"]
        if reached:
            convert(Enrollment.objects.filter(campaign=campaign, lead_id__in=reached),
                    goal=campaign.goal_event_type)
        entering = [lead_id for lead_id, what in last.items() if what == "entry"]
        if entering and campaign.active and not campaign.archived:
            enroll_many(entering, campaign)


def _crossed(batch: Batch, campaign: Campaign) -> list[int]:
    """The leads whose score (in the campaign's group) reached its entry threshold in
    this batch, from below."""
    threshold = campaign.entry_score
    if threshold is None:
        return []
    if campaign.entry_score_group_id is not None:
        out = []
        for lead_id, groups in batch.group_scores.items():
            if (scores := groups.get(campaign.entry_score_group_id)) is not None:
                before, after = scores
                if before < threshold <= after:
                    out.append(lead_id)
        if out or batch.group_scores:
            return out
    if batch.score_formula is None:
        return []
    wf, we, wi = batch.score_formula[:3]
    out = []
    for lead_id, (_stage, after) in batch.scored.items():
        d = batch.score_deltas.get(lead_id, {})
        before = after - (wf * d.get("fit_score", 0) + we * d.get("engagement_score", 0)
                          + wi * d.get("interest_score", 0))
        if before < threshold <= after:
            out.append(lead_id)
    return out


def _wake(batch: Batch) -> int:
    """Make the memberships waiting for one of the batch's event types (of their lead)
    due now; one statement."""
    pairs = {(e.type, e.lead_id) for e in batch.events if e.lead_id is not None}
    if not pairs:
        return 0
    waited = {"email" if t in EMAIL_SETTLED else t for t, _ in pairs}
    leads = sorted({lead for _, lead in pairs})
    return Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE, waits_for__in=sorted(waited),
        lead_id__among=leads).update(next_run_at=clock.now(), claimed_by="")


def on_segment_changed(sender: object, *, segment_id: int, entered: list[int],
                       left: list[int], **_: object) -> None:
    """segments.signals.membership_changed: leads joining a campaign's entry segment enter
    it; those leaving it leave the campaigns that say so. A few queries per campaign."""
    from leadflow.campaigns.services import enroll_many, leave_all

    for campaign in Campaign.objects.filter(entry_segment_id=segment_id):
        if entered and campaign.active and not campaign.archived:
            enroll_many(entered, campaign)
        if left and campaign.exit_on_segment_leave:
            leave_all(Enrollment.objects.filter(campaign=campaign, lead_id__among=left),
                      reason="left the segment")
