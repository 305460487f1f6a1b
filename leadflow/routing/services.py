"""Assignment: new leads go to a team by the routing rules, then round-robin to its reps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, DateTimeField, F, IntegerField, Value, When
from django.utils.translation import gettext

from leadflow.accounts.models import Role, Team, User
from leadflow.core import clock
from leadflow.leads import signals
from leadflow.leads.models import Lead
from leadflow.routing.models import RoutingRule
from leadflow.tracking.models import Event, EventType


def route_new_lead(lead: Lead) -> User | None:
    """Assign a new, unowned lead to the next rep of the team its rules point to (a batch
    of one: see route_leads). Returns the rep, or None when no rule or rep fits."""
    return route_leads([lead]).get(lead.pk)


@transaction.atomic
def route_leads(leads: Sequence[Lead]) -> dict[int, User]:
    """Route new, unowned leads: each goes to the team of the first active rule it
    matches, then round-robin to the team's available reps (never-assigned first, then
    the one who waited longest). A lead whose team has no available rep keeps the team.
    Returns lead id -> rep.

    Set-based: a constant number of queries whatever the number of leads, and one
    `assigned` event each, recorded together. The team rows are locked (in id order, so
    concurrent batches cannot deadlock) while the reps are read and stamped, so the turn
    stays fair between concurrent requests and from one batch to the next.
    """
    leads = [lead for lead in leads if lead.owner_id is None and lead.pk is not None]
    if not leads:
        return {}
    rules = list(RoutingRule.objects.filter(active=True).select_related("team"))
    by_team: dict[int, list[Lead]] = defaultdict(list)
    teams: dict[int, Team] = {}
    for lead in leads:
        rule = next((r for r in rules if r.matches(lead.country, lead.source)), None)
        if rule is not None:
            by_team[rule.team_id].append(lead)
            teams[rule.team_id] = rule.team
    if not by_team:
        return {}
    list(Team.objects.select_for_update().filter(pk__among=sorted(by_team))
         .order_by("pk").values_list("pk", flat=True))
    reps: dict[int | None, list[User]] = defaultdict(list)
    for rep in (User.objects.filter(team_id__among=sorted(by_team), role=Role.SALES_REP,
                                    is_active=True, accepts_leads=True)
                .order_by(F("last_assigned_at").asc(nulls_first=True), "id")):
        reps[rep.team_id].append(rep)
    now = clock.now()
    chosen: list[tuple[Lead, User, str]] = []
    stamps: dict[int, datetime] = {}
    kept: dict[int, list[Lead]] = {}
    for team_id, team_leads in by_team.items():
        turn = reps[team_id]
        if not turn:
            kept[team_id] = team_leads
            continue
        # The turn order is the stamps' order: each rep is stamped by its last hand-off
        # here, a microsecond apart, and after the team's latest stamp even when "now" is
        # not later (a frozen test clock, or the system clock stepping back).
        latest = max((r.last_assigned_at for r in turn if r.last_assigned_at), default=None)
        start = now if latest is None or latest < now else latest + _TICK
        reason = f"round-robin in {teams[team_id].name}"
        for i, lead in enumerate(team_leads):
            rep = turn[i % len(turn)]
            chosen.append((lead, rep, reason))
            stamps[rep.pk] = start + i * _TICK
    if kept:
        Lead.objects.filter(pk__among=[lead.pk for ls in kept.values() for lead in ls]).update(
            team_id=_case({t: [lead.pk for lead in ls] for t, ls in kept.items()}),
            updated_at=now)
        # No event says so: what derives from the team (segments) re-reads these leads.
        signals.fields_changed.send(sender=Lead, lead_ids=[lead.pk for ls in kept.values()
                                                           for lead in ls])
        for team_id, team_leads in kept.items():
            for lead in team_leads:
                lead.team = teams[team_id]
    _assign(chosen, actor=None, stamps=stamps)
    return {lead.pk: rep for lead, rep, _ in chosen}


_TICK = timedelta(microseconds=1)


def on_leads_to_route(sender: Any, *, leads: Sequence[Lead], **_: Any) -> None:
    """leads.signals.leads_to_route: new leads of a bulk upsert, routed as one set."""
    route_leads(leads)


def assign_lead(lead: Lead, rep: User, *, actor: User | None = None,
                reason: str = "") -> None:
    """Make `rep` the owner of `lead` (and its team the lead's team); recorded on the
    timeline as an `assigned` event."""
    assign_leads([(lead, rep)], actor=actor, reason=reason)


@transaction.atomic
def assign_leads(assignments: Sequence[tuple[Lead, User]], *, actor: User | None = None,
                 reason: str = "") -> None:
    """Make each rep the owner of its lead (and the rep's team the lead's team), one
    `assigned` event each; the reps' turn in the round robin moves on. A constant number
    of queries whatever the number of leads."""
    now = clock.now()
    _assign([(lead, rep, reason) for lead, rep in assignments], actor=actor,
            stamps={rep.pk: now for _, rep in assignments})


def _assign(assignments: Sequence[tuple[Lead, User, str]], *, actor: User | None,
            stamps: dict[int, datetime]) -> None:
    """The writes of an assignment: one UPDATE of the leads, one of the reps' stamps, one
    batch of events. A lead named twice goes to the later rep."""
    from leadflow.tracking.services import NewEvent, record_events

    latest = {lead.pk: (lead, rep, reason) for lead, rep, reason in assignments}
    if not latest:
        return
    now = clock.now()
    previous = {pk: lead.owner_id for pk, (lead, _, _) in latest.items()}
    by_rep: dict[int, list[int]] = defaultdict(list)
    for pk, (_, rep, _) in latest.items():
        by_rep[rep.pk].append(pk)
    reps = {rep.pk: rep for _, rep, _ in latest.values()}
    by_team: dict[int | None, list[int]] = defaultdict(list)
    for rep_id, ids in by_rep.items():
        by_team[reps[rep_id].team_id] += ids
    Lead.objects.filter(pk__among=sorted(latest)).update(
        owner_id=_case(by_rep), team_id=_case(by_team), assigned_at=now, updated_at=now)
    User.objects.filter(pk__among=sorted(reps)).update(last_assigned_at=Case(
        *(When(pk=pk, then=Value(stamps[pk])) for pk in reps),
        output_field=DateTimeField()))
    for rep in reps.values():
        rep.last_assigned_at = stamps[rep.pk]
    for lead, rep, _ in latest.values():
        lead.owner, lead.team_id, lead.assigned_at = rep, rep.team_id, now
    record_events([
        NewEvent(type=EventType.ASSIGNED, lead_id=pk,
                 properties={"owner_id": rep.pk, "owner": str(rep),
                             "previous_owner_id": previous[pk], "reason": reason})
        for pk, (_, rep, reason) in latest.items()],
        via=Event.Via.UI if actor else Event.Via.SYSTEM, actor=actor)


def _case(ids_by_value: dict[Any, list[int]]) -> Case:
    """`value` for the rows whose id is in its list: one WHEN per value, not per row.
    NULL is left to ELSE: a CASE whose branches are all NULL is text to PostgreSQL."""
    return Case(*(When(pk__among=ids, then=Value(value))
                  for value, ids in ids_by_value.items() if value is not None),
                default=None, output_field=IntegerField())


def reassign_lead(lead: Lead, owner_id: int, *, actor: User) -> User:
    """Hand `lead` to another owner by hand. Preconditions: `actor` may change the lead
    (NotFound otherwise) and may give it to that person (accounts.permissions.
    may_assign_to; Forbidden otherwise); InvalidInput for an unknown person. Recorded as
    an `assigned` event naming the actor. Returns the new owner."""
    from leadflow.accounts.permissions import Actor, may_assign_to, may_change_lead
    from leadflow.core.errors import Forbidden, InvalidInput, NotFound

    if not may_change_lead(Actor.of(actor), owner_id=lead.owner_id, team_id=lead.team_id):
        raise NotFound(gettext("No lead #%(id)s (or you may not see it).") % {"id": lead.pk})
    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        raise InvalidInput(gettext("Choose the new owner among the people listed."), field="owner")
    if not may_assign_to(actor, owner):
        raise Forbidden(gettext("You may not give this lead to that person."), field="owner")
    if owner.pk != lead.owner_id:
        assign_lead(lead, owner, actor=actor, reason=gettext("Reassigned by hand"))
    return owner
