"""Assignment: new leads go to a team by the routing rules, then round-robin to its reps."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Max

from leadflow.accounts.models import Role, Team, User
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.routing.models import RoutingRule
from leadflow.tracking.models import Event, EventType


def team_for(lead: Lead) -> Team | None:
    for rule in RoutingRule.objects.filter(active=True).select_related("team"):
        if rule.matches(lead.country, lead.source):
            return rule.team
    return None


@transaction.atomic
def route_new_lead(lead: Lead) -> User | None:
    """Assign a new, unowned lead to the next rep of the team its rules point to.

    The team row is locked while choosing, so two leads arriving together never go to
    the same rep by accident of timing. Returns the rep, or None when no rule or rep fits.
    """
    if lead.owner_id is not None:
        return None
    team = team_for(lead)
    if team is None:
        return None
    Team.objects.select_for_update().filter(pk=team.pk).first()
    reps = User.objects.filter(team=team, role=Role.SALES_REP, is_active=True,
                               accepts_leads=True)
    # Never-assigned reps first: PostgreSQL sorts NULLs last by default.
    rep = reps.order_by(F("last_assigned_at").asc(nulls_first=True), "id").first()
    if rep is None:
        Lead.objects.filter(pk=lead.pk).update(team=team)
        lead.team = team
        return None
    latest = reps.aggregate(at=Max("last_assigned_at"))["at"]
    assign_lead(lead, rep, reason=f"round-robin in {team.name}")
    # The turn must move on even when "now" is not later than the last hand-off (a frozen
    # test clock, or the system clock stepping back): stamp the rep just after it.
    if latest is not None and latest >= rep.last_assigned_at:
        User.objects.filter(pk=rep.pk).update(last_assigned_at=latest + timedelta(microseconds=1))
    return rep


@transaction.atomic
def assign_lead(lead: Lead, rep: User, *, actor: User | None = None,
                reason: str = "") -> None:
    """Make `rep` the owner of `lead` (and its team the lead's team); recorded on the
    timeline as an `assigned` event."""
    now = clock.now()
    previous = lead.owner_id
    Lead.objects.filter(pk=lead.pk).update(owner=rep, team_id=rep.team_id,
                                           assigned_at=now, updated_at=now)
    lead.owner, lead.team_id, lead.assigned_at = rep, rep.team_id, now
    User.objects.filter(pk=rep.pk).update(last_assigned_at=now)
    rep.last_assigned_at = now
    from leadflow.tracking.services import record_event

    record_event(EventType.ASSIGNED, lead=lead, actor=actor,
                 via=Event.Via.UI if actor else Event.Via.SYSTEM,
                 properties={"owner_id": rep.pk, "owner": str(rep),
                             "previous_owner_id": previous, "reason": reason})
