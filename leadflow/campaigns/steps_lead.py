"""Actions of campaign steps on the lead itself and its memberships: set a field, change
the stage, tell the owner, assign, add to or take off a segment or a list. Each works on
the whole batch through the owning app's set-based service."""

from __future__ import annotations

from leadflow.accounts.permissions import Actor
from leadflow.campaigns.models import Step
from leadflow.campaigns.steps import Context
from leadflow.campaigns.walk import Walker
from leadflow.tracking.models import Event


def _all_yes(walkers: list[Walker]) -> None:
    for w in walkers:
        w.yes()


def _ids(walkers: list[Walker]) -> list[int]:
    return [w.lead_id for w in walkers]


def set_field(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.leads.services import set_field_many

    config = step.config or {}
    set_field_many(_ids(walkers), str(config.get("field", "")), config.get("value"),
                   via=Event.Via.SYSTEM)
    _all_yes(walkers)


def change_stage(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.lifecycle.services import change_stages

    campaign = ctx.campaigns[step.campaign_id]
    leads = ctx.leads()
    change_stages([leads[w.lead_id] for w in walkers if w.lead_id in leads],
                  str((step.config or {}).get("stage", "")),
                  reason=f"campaign {campaign.name}", via=Event.Via.SYSTEM, cause="campaign")
    _all_yes(walkers)


def notify_owner(step: Step, walkers: list[Walker], ctx: Context) -> None:
    from leadflow.notifications.services import notify_owners

    campaign = ctx.campaigns[step.campaign_id]
    notify_owners({w.lead_id: f"{w.key()}:notify" for w in walkers},
                  {"campaign_id": campaign.pk, "campaign": campaign.name,
                   "message": str((step.config or {}).get("message", ""))[:500]})
    _all_yes(walkers)


def assign(step: Step, walkers: list[Walker], ctx: Context) -> None:
    """The routing rules (round robin in the team they name), or the step's rep; a lead
    that already has an owner keeps it."""
    from leadflow.accounts.models import User
    from leadflow.routing.services import assign_leads, route_leads

    leads = [lead for w in walkers if (lead := ctx.leads().get(w.lead_id)) is not None
             and lead.owner_id is None]
    rep_id = (step.config or {}).get("user_id")
    rep = User.objects.filter(pk=rep_id, is_active=True).first() if rep_id else None
    if rep is not None:
        assign_leads([(lead, rep) for lead in leads],
                     reason=f"campaign {ctx.campaigns[step.campaign_id].name}")
    elif leads:
        route_leads(leads)
    _all_yes(walkers)


def add_to_segment(step: Step, walkers: list[Walker], ctx: Context) -> None:
    _segment(step, walkers, ctx, include=True)


def remove_from_segment(step: Step, walkers: list[Walker], ctx: Context) -> None:
    _segment(step, walkers, ctx, include=False)


def _segment(step: Step, walkers: list[Walker], ctx: Context, *, include: bool) -> None:
    from leadflow.segments import services
    from leadflow.segments.models import Segment

    segment = Segment.objects.filter(pk=int((step.config or {}).get("segment_id") or 0)).first()
    if segment is not None:
        change = services.include if include else services.exclude
        change(Actor.system(), segment, _ids(walkers),
               f"campaign {ctx.campaigns[step.campaign_id].name}")
    _all_yes(walkers)


def add_to_list(step: Step, walkers: list[Walker], ctx: Context) -> None:
    _list(step, walkers, add=True)


def remove_from_list(step: Step, walkers: list[Walker], ctx: Context) -> None:
    _list(step, walkers, add=False)


def _list(step: Step, walkers: list[Walker], *, add: bool) -> None:
    from leadflow.lists.models import LeadList
    from leadflow.lists.services import add_members, remove_members

    lead_list = LeadList.objects.filter(pk=int((step.config or {}).get("list_id") or 0)).first()
    if lead_list is not None:
        (add_members if add else remove_members)(Actor.system(), lead_list,
                                                 lead_ids=_ids(walkers))
    _all_yes(walkers)
