"""What each kind of step does, for a whole batch of memberships at once.

A kind is registered once (`register`): its label, its family (action, decision,
condition), the check of its settings, and its handler. A handler takes the step, the
memberships standing at it (campaigns.walk.Walker) and the batch's context, and says for
each one yes, no, wait, leave or fail, in a bounded number of queries whatever the number
of memberships. Every effect is keyed by the visit (`Walker.key()`), so a step run twice
for one visit (a worker died before it wrote where the lead stands) does its work once.

The set is open: an app above campaigns registers its own kinds in its AppConfig.ready()
(the routing work adds "call a webhook" and "create a task for a rep").
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from django.utils.functional import Promise

from leadflow.campaigns.models import Campaign, Step
from leadflow.campaigns.walk import Walker
from leadflow.core import failpoints
from leadflow.tracking.models import EventType

if TYPE_CHECKING:
    from leadflow.leads.models import Lead

Family = Literal["action", "decision", "condition"]
# A send step waiting for its email looks at it this often even when nothing wakes it up.
EMAIL_CHECK = timedelta(minutes=10)


@dataclass
class Context:
    """What one batch's handlers share: the time, the campaigns, and the leads (read once
    for the whole batch, when a handler first needs them)."""

    now: datetime
    campaigns: dict[int, Campaign]
    _leads: dict[int, Lead] | None = None
    lead_ids: set[int] = field(default_factory=set)

    def leads(self) -> dict[int, Lead]:
        if self._leads is None:
            from leadflow.leads.models import Lead

            self._leads = {lead.pk: lead for lead in Lead.objects.filter(
                pk__among=sorted(self.lead_ids)).select_related("company")}
        return self._leads


Handler = Callable[[Step, list[Walker], Context], None]


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    family: Family
    run: Handler
    # The event type a waiting decision is woken by (None: a decision of the kind sets it).
    wakes_on: str | None = None
    # The check of its settings (config, field path) -> cleaned config, raising
    # InvalidInput; for a kind another app registers (stepcheck checks the built-in ones).
    check: Callable[[dict[str, Any], str], dict[str, Any]] | None = None


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    _kinds[kind.key] = kind


def kind_of(key: str) -> Kind | None:
    return _kinds.get(key)


def kinds() -> list[Kind]:
    return list(_kinds.values())


def kind_label(key: str) -> str:
    kind = _kinds.get(key)
    return str(kind.label) if kind else key


# --- actions -------------------------------------------------------------------------

def _send_email(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.emails.models import EmailMessage
    from leadflow.emails.services import send_template_many
    from leadflow.lists.services import on_list

    if step.template is None:
        for w in walkers:
            w.yes()
        return
    failpoints.hit("campaign.step")
    campaign = ctx.campaigns[step.campaign_id]
    leads = ctx.leads()
    walkers = [w for w in walkers if w.lead_id in leads] + _gone(walkers, leads)
    skip: dict[int, str] = {}
    if campaign.test_mode:
        testers = on_list(campaign.test_list_id, [w.lead_id for w in walkers])
        skip = {w.lead_id: EmailMessage.Skip.NOT_TEST for w in walkers
                if w.lead_id not in testers}
    messages = send_template_many([(leads[w.lead_id], w.key()) for w in walkers
                                   if w.outcome is None],
                                  step.template, campaign_id=campaign.pk, skip=skip)
    for w in walkers:
        if w.outcome is not None:
            continue
        message = messages[w.key()]
        if message.status in (EmailMessage.Status.QUEUED, EmailMessage.Status.SENDING):
            w.wait(ctx.now + EMAIL_CHECK, waits_for="email", message_id=message.pk)
        elif message.status == EmailMessage.Status.FAILED:
            w.fail(f"email not sent: {message.error}")
        else:
            w.yes()


def _gone(walkers: list[Walker], leads: dict[int, Lead]) -> list[Walker]:
    """Memberships whose lead was deleted meanwhile: they leave quietly."""
    gone = [w for w in walkers if w.lead_id not in leads]
    for w in gone:
        w.leave("lead deleted")
    return gone


def _wait(step: Step, walkers: list[Walker], ctx: Context) -> None:
    """Due from the moment the lead reached the step (campaigns.waits: a delay, a date, a
    weekday and time, a send window, in the lead's time zone): computed the same each
    time the membership is looked at, so looking again never shortens a wait."""
    from leadflow.campaigns import waits

    spec = (step.config or {}).get("wait") or {"kind": "delay",
                                                "seconds": step.wait_seconds or 0}
    # A zero delay goes on at once; a delay may be given in any unit (days, hours...).
    if spec.get("kind") == "delay" and not spec.get("window") and not any(
            spec.get(unit) for unit in waits.DELAY_UNITS):
        for w in walkers:
            w.yes()
        return
    leads = ctx.leads() if waits.uses_lead_zone(spec) else {}
    since: dict[datetime, list[Walker]] = defaultdict(list)
    for w in walkers:
        since[w.step_since or ctx.now].append(w)
    for start, group in since.items():  # those reaching the step together: one call
        rows = [waits.LeadTZ(w.lead_id, lead.country, lead.city, lead.custom)
                if (lead := leads.get(w.lead_id)) else waits.LeadTZ(w.lead_id)
                for w in group]
        due = waits.due_times(spec, rows, start)
        for w in group:
            if due[w.lead_id] <= ctx.now:
                w.yes()
            else:
                w.wait(due[w.lead_id])


def _add_points(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.leads.models import Category
    from leadflow.tracking.services import NewEvent, record_events

    failpoints.hit("campaign.step")
    campaign = ctx.campaigns[step.campaign_id]
    if step.points:
        # Keyed by the visit, so a step run twice gives its points once.
        record_events([NewEvent(
            type=EventType.CAMPAIGN_POINTS, lead_id=w.lead_id, idempotency_key=w.key(),
            properties={"campaign_id": campaign.pk, "points": step.points,
                        "reason": f"campaign {campaign.name}"[:200],
                        "category": step.config.get("category") or Category.ENGAGEMENT})
            for w in walkers])
    for w in walkers:
        w.yes()


def _exit(step: Step, walkers: list[Walker], ctx: Context) -> None:
    for w in walkers:
        w.leave(f"step {step.position}: exit")


def _start_campaign(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.campaigns.services import enroll_many

    other = Campaign.objects.filter(pk=step.config.get("campaign_id"), active=True,
                                    archived=False).first()
    if other is not None:
        enroll_many([w.lead_id for w in walkers], other)
    for w in walkers:
        w.yes()


# --- decisions and conditions ---------------------------------------------------------

def _split(step: Step, walkers: list[Walker], ctx: Context) -> None:
    """A/B: the same membership always takes the same branch (a rerun agrees)."""
    percent = float(step.config.get("percent", 50))
    for w in walkers:
        digest = hashlib.sha256(w.key().encode()).digest()
        if int.from_bytes(digest[:4]) / 2**32 * 100 < percent:
            w.yes()
        else:
            w.no()


def _condition(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.segments.filters import matching_among

    holds = matching_among(step.config.get("filter") or {"all": []},
                           [w.lead_id for w in walkers])
    for w in walkers:
        if w.lead_id in holds:
            w.yes()
        else:
            w.no()


def register_builtins() -> None:
    from leadflow.campaigns import decisions
    from leadflow.campaigns import steps_lead as lead_steps

    S = Step.Kind
    actions: tuple[tuple[str, Any, Handler], ...] = (
            (S.SEND_EMAIL, S.SEND_EMAIL.label, _send_email),
            (S.WAIT, S.WAIT.label, _wait),
            (S.ADD_POINTS, S.ADD_POINTS.label, _add_points),
            (S.SET_FIELD, S.SET_FIELD.label, lead_steps.set_field),
            (S.CHANGE_STAGE, S.CHANGE_STAGE.label, lead_steps.change_stage),
            (S.NOTIFY_OWNER, S.NOTIFY_OWNER.label, lead_steps.notify_owner),
            (S.ASSIGN, S.ASSIGN.label, lead_steps.assign),
            (S.ADD_TO_SEGMENT, S.ADD_TO_SEGMENT.label, lead_steps.add_to_segment),
            (S.REMOVE_FROM_SEGMENT, S.REMOVE_FROM_SEGMENT.label,
             lead_steps.remove_from_segment),
            (S.ADD_TO_LIST, S.ADD_TO_LIST.label, lead_steps.add_to_list),
            (S.REMOVE_FROM_LIST, S.REMOVE_FROM_LIST.label, lead_steps.remove_from_list),
            (S.START_CAMPAIGN, S.START_CAMPAIGN.label, _start_campaign),
            (S.EXIT, S.EXIT.label, _exit))
    for key, label, run in actions:
        register(Kind(key, label, "action", run))
    for key, wakes_on in decisions.WAKES_ON.items():
        register(Kind(key, Step.Kind(key).label, "decision", decisions.decide, wakes_on))
    register(Kind(S.CONDITION, S.CONDITION.label, "condition", _condition))
    register(Kind(S.SPLIT, S.SPLIT.label, "condition", _split))


