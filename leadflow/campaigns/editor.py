"""The campaign editor's services (the builder pages and /api/v1/campaigns): settings,
activate / pause / archive, the graph saved whole (`save_graph`), enrolment by hand, and
the numbers (`stats`).

Writes take the actor and ask `accounts.permissions.may_manage_campaigns` (admins and
marketing); reads ask `may_view_campaigns`. Editing a running campaign is safe: steps
keep their position (memberships say where they stand by it), and the memberships
standing at a removed step go where the editor says (`moves`), or the save is refused
with how many stand where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadflow.accounts.permissions import (
    Actor,
    may_manage_campaigns,
    may_view_campaigns,
    scoped,
)
from leadflow.campaigns import graphcheck, services, stepcheck
from leadflow.campaigns.models import Campaign, Enrollment, Step, StepStat
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, NotFound, check_fields
from leadflow.core.params import valid_id

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None
Move = int | Literal["exit"]
SETTINGS = ("name", "description", "entry_event_type", "entry_conditions", "entry_score",
            "entry_score_group", "entry_segment", "exit_on_segment_leave", "goal_event_type",
            "goal_conditions", "reentry", "reentry_seconds", "sender", "test_mode",
            "test_list")
MAX_STEPS = graphcheck.MAX_STEPS
MAX_ENROL = 10_000


def _user(actor: Who) -> User | None:
    return Actor.of(actor).user


def check_may_manage(actor: Who) -> None:
    a = Actor.of(actor)
    if a.is_public or (a.user is not None and not may_manage_campaigns(a.user)):
        raise Forbidden(_("Only administrators and marketers may change campaigns."))


def check_may_view(user: User) -> None:
    if not may_view_campaigns(user):
        raise Forbidden(_("You may not see campaigns."))


def get_campaign(user: User, campaign_id: int) -> Campaign:
    check_may_view(user)
    found = Campaign.objects.filter(pk=campaign_id).first() if valid_id(campaign_id) else None
    if found is None:
        raise NotFound(_("No campaign #%(id)s.") % {"id": campaign_id})
    return found


def campaigns(user: User, *, archived: bool = False) -> QuerySet[Campaign]:
    """Campaigns (archived ones only when asked), each with its counts of memberships
    by status (`n_active`, `n_completed`, `n_converted`, `n_exited`, `n_failed`): one
    query."""
    check_may_view(user)
    E = Enrollment.Status
    return Campaign.objects.filter(archived=archived).annotate(**{
        f"n_{status}": Count("enrollments", filter=Q(enrollments__status=status))
        for status in E.values}).order_by("name", "pk")


# --- settings --------------------------------------------------------------------------

def _clean_settings(data: Mapping[str, Any], campaign: Campaign | None) -> dict[str, Any]:
    from leadflow.scoring.conditions import validate_conditions
    from leadflow.scoring.models import RuleKind
    from leadflow.tracking.events import TYPE_NAME

    check_fields(data, SETTINGS)
    stepcheck.check_json(dict(data), "body")
    clean: dict[str, Any] = {}
    if "name" in data or campaign is None:
        name = " ".join(str(data.get("name") or "").split())
        if not name or len(name) > 120:
            raise InvalidInput(_("Give the campaign a name (at most 120 characters)."),
                               field="name")
        others = Campaign.objects.filter(name=name)
        if campaign is not None:
            others = others.exclude(pk=campaign.pk)
        if others.exists():
            raise Conflict(_("A campaign is already named %(name)r.") % {"name": name},
                           field="name")
        clean["name"] = name
    if "description" in data:
        clean["description"] = stepcheck._text(data["description"], "description", 5000)
    for key in ("entry_event_type", "goal_event_type"):
        if key in data:
            value = data[key] or ""
            if not isinstance(value, str) or (value and not TYPE_NAME.match(value)):
                raise InvalidInput(_("%(field)s: an event type is lower case letters, digits "
                                     "and _ . : - (e.g. newsletter_signup).")
                                   % {"field": key}, field=key)
            clean[key] = value
    for key in ("entry_conditions", "goal_conditions"):
        if key in data:
            try:
                clean[key] = validate_conditions(RuleKind.EVENT, data[key] or [])
            except InvalidInput as exc:
                where = (exc.field or "").removeprefix("conditions")
                raise InvalidInput(exc.message, field=key + where) from None
    if "entry_score" in data:
        clean["entry_score"] = stepcheck.integer(data["entry_score"], "entry_score",
                                                 low=-1_000_000, high=1_000_000,
                                                 required=False)
    if "reentry" in data:
        if data["reentry"] not in Campaign.Reentry.values:
            raise InvalidInput(_("reentry must be one of %(choices)s.")
                               % {"choices": ", ".join(Campaign.Reentry.values)},
                               field="reentry")
        clean["reentry"] = data["reentry"]
    if "reentry_seconds" in data:
        clean["reentry_seconds"] = stepcheck.integer(
            data["reentry_seconds"], "reentry_seconds", low=0, high=stepcheck.MAX_SECONDS,
            required=False) or 0
    for key in ("test_mode", "exit_on_segment_leave"):
        if key in data:
            if not isinstance(data[key], bool):
                raise InvalidInput(_("%(field)s must be true or false.") % {"field": key},
                                   field=key)
            clean[key] = data[key]
    clean.update(_rows(data))
    return clean


def _rows(data: Mapping[str, Any]) -> dict[str, Any]:
    """The rows the settings name (score group, sender, test list), by id; None clears."""
    from leadflow.emails.models import SenderIdentity
    from leadflow.lists.models import LeadList
    from leadflow.scoring.models import ScoreGroup
    from leadflow.segments.models import Segment

    clean: dict[str, Any] = {}
    for key, model in (("entry_score_group", ScoreGroup), ("sender", SenderIdentity),
                       ("test_list", LeadList), ("entry_segment", Segment)):
        if key not in data:
            continue
        pk = stepcheck.integer(data[key], key, low=1, high=2**63 - 1, required=False)
        row = model.objects.filter(pk=pk).first() if pk else None  # type: ignore[attr-defined]
        if pk and row is None:
            raise InvalidInput(_("%(field)s: no row #%(id)s.") % {"field": key, "id": pk},
                               field=key)
        clean[key] = row
    return clean


def _check_test_mode(campaign: Campaign) -> None:
    if campaign.test_mode and campaign.test_list_id is None:
        raise InvalidInput(_("Choose the test list that test mode sends to."),
                           field="test_list")


@transaction.atomic
def create_campaign(actor: Who, data: Mapping[str, Any]) -> Campaign:
    """A new campaign with these settings (SETTINGS), paused and without steps: build
    its graph, then activate it."""
    check_may_manage(actor)
    campaign = Campaign(active=False, **_clean_settings(data, None))
    _check_test_mode(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def update_campaign(actor: Who, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    """Change the settings given (SETTINGS); the others stay."""
    check_may_manage(actor)
    for key, value in _clean_settings(data, campaign).items():
        setattr(campaign, key, value)
    _check_test_mode(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def activate(actor: Who, campaign: Campaign) -> Campaign:
    """Leads enter from now on (an archived campaign comes back from the archive), and
    paused memberships go on; a campaign entered on a segment takes in its current
    members, and those a rebuild still running (a segment being built) lets in enter as
    it commits."""
    from leadflow.segments import services as segments

    check_may_manage(actor)
    if not campaign.steps.exists():
        raise Conflict(_("Add a step before starting the campaign."))
    _set(campaign, active=True, archived=False)
    if campaign.entry_segment_id is not None:
        # Switched on first, members read after: a rebuild or refresh committing before
        # the read is in it; one committing after sees the campaign on and enters its
        # entrants (campaigns.entry.on_segment_changed). None is missed, none twice.
        segments.hold_members(campaign.entry_segment_id)
    services.enrol_segment_members(campaign)
    return campaign


def pause(actor: Who, campaign: Campaign) -> Campaign:
    """No lead enters, and the memberships hold where they stand (no worker claims
    them) until the campaign is started again; goals still take leads out."""
    check_may_manage(actor)
    return _set(campaign, active=False)


@transaction.atomic
def archive(actor: Who, campaign: Campaign) -> Campaign:
    """Stopped and hidden from the lists (`campaigns(archived=True)` shows it): its
    memberships end ("campaign stopped")."""
    check_may_manage(actor)
    _set(campaign, active=False, archived=True)
    services.leave_all(campaign.enrollments.all(), reason="campaign stopped")
    return campaign


def _set(campaign: Campaign, **values: bool) -> Campaign:
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.save(update_fields=list(values))
    return campaign


# --- the graph -------------------------------------------------------------------------

class LeadsWaiting(Conflict):
    """A save would remove steps memberships stand at, and `moves` does not say where
    they go. `waiting`: {position: how many}."""

    def __init__(self, waiting: dict[int, int], labels: dict[int, str]):
        parts = [ngettext("%(n)d lead stands at step %(position)d (%(label)s)",
                          "%(n)d leads stand at step %(position)d (%(label)s)", n)
                 % {"n": n, "position": p, "label": labels.get(p, "")}
                 for p, n in sorted(waiting.items())]
        super().__init__(_("%(where)s: say where they go (another step, or exit).")
                         % {"where": "; ".join(parts)}, field="moves")
        self.waiting = waiting


def graph_of(campaign: Campaign) -> list[dict[str, Any]]:
    """The campaign's steps as `save_graph` takes them (links as positions), plus each
    one's `kind_label` and `summary` (campaigns.graph); a few queries."""
    from leadflow.campaigns.graph import Names, summary

    steps = list(campaign.steps.select_related("template").order_by("position"))
    names = Names.of(steps)
    position = {s.pk: s.position for s in steps}
    return [{"position": s.position, "kind": s.kind, "kind_label": s.kind_label,
             "family": stepcheck.family(s.kind), "label": s.label,
             "summary": summary(s, names), "config": s.config or {},
             "template_id": s.template_id, "wait_seconds": s.wait_seconds,
             "points": s.points, "count_machines": s.count_machines,
             "next": position.get(s.next_step_id) if s.next_step_id else None,
             "no": position.get(s.no_step_id) if s.no_step_id else None,
             "x": s.x, "y": s.y} for s in steps]


def standing(campaign: Campaign) -> dict[int, int]:
    """How many active memberships stand at each position (one GROUP BY). Those that
    entered and were not walked yet are not at a step yet."""
    return dict(Enrollment.objects.filter(
        campaign=campaign, status=Enrollment.Status.ACTIVE, step_since__isnull=False)
        .values_list("next_position").annotate(n=Count("pk")).order_by())


def _clean_moves(moves: Mapping[Any, Any], removed: set[int], kept: set[int]) -> dict[int, Move]:
    clean: dict[int, Move] = {}
    for key, target in (moves or {}).items():
        at = f"moves.{key}"
        position = stepcheck.integer(key, at, low=1, high=stepcheck.MAX_POSITION)
        if position not in removed:
            raise InvalidInput(_("%(field)s: step %(position)s is not removed.")
                               % {"field": at, "position": position}, field=at)
        if target != "exit":
            target = stepcheck.integer(target, at, low=1, high=stepcheck.MAX_POSITION)
            if target not in kept:
                raise InvalidInput(_("%(field)s: move them to a step of the campaign, or "
                                     "\"exit\".") % {"field": at}, field=at)
        clean[position] = target  # type: ignore[assignment]
    return clean


@transaction.atomic
def save_graph(actor: Who, campaign: Campaign, steps: Any,
               moves: Mapping[Any, Any] | None = None) -> list[Step]:
    """Replace the campaign's graph by `steps` (dicts: position, kind, label, config,
    template_id, wait_seconds, points, count_machines, next, no, x, y). A step keeps its
    identity by its position. Memberships standing at a removed position go where
    `moves` says ({position: another position, or "exit"}), else LeadsWaiting (409).
    Moved ones start the new step now. A constant number of statements."""
    check_may_manage(actor)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    cleaned = graphcheck.clean_graph(steps, campaign)
    old = {s.position: s for s in campaign.steps.all()}
    kept = {s["position"] for s in cleaned}
    removed = set(old) - kept
    clean_moves = _clean_moves(moves or {}, removed, kept)
    waiting = {p: n for p, n in standing(campaign).items() if p in removed}
    unsaid = {p: n for p, n in waiting.items() if p not in clean_moves}
    if unsaid:
        raise LeadsWaiting(unsaid, {p: old[p].label or old[p].kind_label for p in unsaid})
    _move_memberships(campaign, {p: t for p, t in clean_moves.items() if p in waiting})
    if removed:
        Step.objects.filter(campaign=campaign, position__in=removed).delete()
        StepStat.objects.filter(campaign=campaign, position__in=removed).delete()
    rows = []
    columns = ("kind", "label", "config", "template_id", "wait_seconds", "points",
               "count_machines", "x", "y")
    for s in cleaned:
        row = old.get(s["position"]) or Step(campaign=campaign, position=s["position"])
        for c in columns:
            setattr(row, c, s[c])
        rows.append(row)
    new = [r for r in rows if r.pk is None]
    Step.objects.bulk_create(new)
    by_position = {r.position: r for r in rows}
    for s, row in zip(cleaned, rows, strict=True):
        row.next_step = by_position[s["next"]] if s["next"] is not None else None
        row.no_step = by_position[s["no"]] if s["no"] is not None else None
    Step.objects.bulk_update(rows, [*columns, "next_step", "no_step"], batch_size=500)
    return sorted(rows, key=lambda r: r.position)


def _move_memberships(campaign: Campaign, moves: dict[int, Move]) -> None:
    """The memberships at removed steps go on at their new step now, as a new visit (so
    its effects happen), or leave ("step removed"). One statement per move."""
    now = clock.now()
    entered: dict[int, int] = {}
    for position, target in moves.items():
        at = Enrollment.objects.filter(campaign=campaign, status=Enrollment.Status.ACTIVE,
                                       step_since__isnull=False, next_position=position)
        if target == "exit":
            services.leave_all(at, reason="step removed")
            continue
        # claimed_by cleared: a worker holding one of them drops its write (workqueue).
        n = at.update(next_position=target, step_since=now, waits_for="", deadline=None,
                      next_run_at=now, waiting_for=None, loop=F("loop") + 1, claimed_by="")
        entered[target] = entered.get(target, 0) + n
    if entered:
        StepStat.objects.bulk_create([StepStat(campaign=campaign, position=p)
                                      for p in entered], ignore_conflicts=True)
        for p, n in entered.items():
            StepStat.objects.filter(campaign=campaign, position=p).update(
                entered=F("entered") + n)


# --- enrolment and numbers ---------------------------------------------------------------

@dataclass
class Enrolled:
    enrolled: int = 0
    not_allowed: int = 0  # already in, or the re-entry policy keeps them out
    not_found: int = 0  # no such lead, or not one the actor sees
    lead_ids: list[int] = field(default_factory=list)


def enrol(actor: Who, campaign: Campaign, *, lead_ids: Sequence[int] = (),
          list_id: int | None = None) -> Enrolled:
    """Put leads in the campaign by hand: ids, or the members of a static list; only
    leads the actor sees; the re-entry policy applies (campaigns.services.enroll_many)."""
    from leadflow.campaigns.services import enroll_many
    from leadflow.leads.models import Lead
    from leadflow.lists.models import LeadList, ListMember

    check_may_manage(actor)
    if not campaign.active or campaign.archived:
        raise Conflict(_("Start the campaign before enrolling leads."))
    user = _user(actor)
    leads = Lead.objects.filter(erased_at__isnull=True)
    if user is not None:
        leads = scoped(leads, user)
    if list_id is not None:
        if not valid_id(list_id) or not LeadList.objects.filter(pk=list_id).exists():
            raise NotFound(_("No list #%(id)s.") % {"id": list_id})
        wanted = list(ListMember.objects.filter(list_id=list_id).values_list("lead_id",
                                                                               flat=True))
    else:
        wanted = list(dict.fromkeys(lead_ids))
    if len(wanted) > MAX_ENROL:
        raise InvalidInput(_("Enrol at most %(n)d leads at once.") % {"n": MAX_ENROL},
                           field="lead_ids")
    ids = [pk for pk in wanted if valid_id(pk)]
    found = list(leads.filter(pk__among=ids).values_list("pk", flat=True))
    created = enroll_many(found, campaign)
    return Enrolled(enrolled=len(created), not_allowed=len(found) - len(created),
                    not_found=len(wanted) - len(found),
                    lead_ids=sorted(e.lead_id for e in created))


def memberships(user: User, campaign: Campaign, *, status: str | None = None,
                position: int | None = None) -> QuerySet[Enrollment]:
    """The campaign's memberships of leads `user` sees, newest first."""
    from leadflow.leads.models import Lead

    check_may_view(user)
    rows = Enrollment.objects.filter(campaign=campaign)
    if status:
        if status not in Enrollment.Status.values:
            raise InvalidInput(_("status must be one of %(choices)s.")
                               % {"choices": ", ".join(Enrollment.Status.values)},
                               field="status")
        rows = rows.filter(status=status)
    if position is not None:
        rows = rows.filter(next_position=position, status=Enrollment.Status.ACTIVE)
    if not (user.is_superuser or may_manage_campaigns(user)):
        rows = rows.filter(lead__in=scoped(Lead.objects.all(), user))
    return rows.select_related("lead").order_by("-entered_at", "-pk")


STEP_COUNTS = ("entered", "waiting", "passed", "converted", "exited")
TOTALS = tuple(Enrollment.Status.values)


@dataclass
class Stats:
    steps: dict[int, dict[str, int]]  # position -> STEP_COUNTS
    totals: dict[str, int]  # status -> memberships


def stats(campaign: Campaign) -> Stats:
    """Per step: entered, waiting (standing there now), passed, converted, exited; per
    status, the memberships. Four queries, whatever the size of the campaign."""
    positions = sorted(campaign.steps.values_list("position", flat=True))
    steps = {p: dict.fromkeys(STEP_COUNTS, 0) for p in positions}
    for p, entered, passed, converted, exited in StepStat.objects.filter(
            campaign=campaign).values_list("position", "entered", "passed", "converted",
                                           "exited"):
        if p in steps:
            steps[p].update(entered=entered, passed=passed, converted=converted,
                            exited=exited)
    for p, n in standing(campaign).items():
        if p in steps:
            steps[p]["waiting"] = n
    totals = dict.fromkeys(TOTALS, 0)
    totals.update(Enrollment.objects.filter(campaign=campaign).values_list("status")
                  .annotate(n=Count("pk")).order_by())
    return Stats(steps=steps, totals=totals)
