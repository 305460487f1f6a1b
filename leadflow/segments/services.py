"""Segments: made, changed, rebuilt and deleted by those who manage them (marketing,
admins, and Leadflow itself: a campaign's actor); members included or excluded by hand;
membership kept current as events arrive and time passes.

How membership stays current (docs/segments.md):
- creating a segment, a new filter and "rebuild now" queue its full rebuild for a worker
  (segments.builds: never in the request); it is `building` until the worker has built
  it;
- the pipeline step `on_events` only queues the batch's leads as possibly changed (one
  INSERT into DirtyLead, when an active segment can read what the batch carries) and
  wakes a worker after the commit;
- `refresh_due` (a periodic job, and that task) claims queued leads in batches
  (DELETE ... RETURNING, SKIP LOCKED on PostgreSQL: safe with N workers; a worker that
  dies rolls its claim back) and re-evaluates them against every active segment;
- `windows.check_time_windows` (periodic, every 30 s) queues the leads whose time window
  or inactivity threshold was crossed since it last looked, with no event at all;
- lead writes that record no event (a consent recorded through the API, a re-score, a
  static list's members) queue their leads through the signals of leads, scoring and
  lists (segments.hooks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, may_manage_segments, scoped
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from leadflow.core.params import valid_id
from leadflow.leads.models import Lead
from leadflow.segments import builds, evaluate, filters, language, membership, queries
from leadflow.segments.dirty import mark_dirty
from leadflow.segments.models import Segment, SegmentMember, SegmentOverride

if TYPE_CHECKING:
    from leadflow.accounts.models import User
    from leadflow.core.pipeline import Batch

# Leads re-evaluated per transaction of refresh_due, and transactions per call.
BATCH = 2000
ROUNDS = 20
MAX_ITEMS = 10_000


# --- who ----------------------------------------------------------------------------------

def _manager(who: User | Actor | None) -> Actor:
    actor = Actor.of(who)
    if actor.is_public:
        raise Forbidden(_("Segments are managed by people and campaigns, not by public "
                          "channels."))
    if actor.user is not None and not may_manage_segments(actor.user):
        raise Forbidden(_("Only administrators and marketing manage segments."))
    return actor


def _who(actor: Actor) -> str:
    return actor.user.get_username() if actor.user is not None else "Leadflow"


# --- reading ----------------------------------------------------------------------------

def get_segment(segment_id: int) -> Segment:
    found = Segment.objects.filter(pk=segment_id).first() if valid_id(segment_id) else None
    if found is None:
        raise NotFound(_("No segment #%(id)s.") % {"id": segment_id})
    return found


def members_among(segment_id: int, lead_ids: Sequence[int]) -> set[int]:
    """The leads among `lead_ids` in the segment now (one query per 10,000 ids)."""
    ids = sorted(set(lead_ids))
    found: set[int] = set()
    for start in range(0, len(ids), MAX_ITEMS):
        found.update(SegmentMember.objects.filter(
            segment_id=segment_id, lead_id__among=ids[start:start + MAX_ITEMS])
            .values_list("lead_id", flat=True))
    return found


def hold_members(segment_id: int) -> None:
    """Keep the segment's membership still until the caller's transaction ends: waits
    for a rebuild or refresh writing it to commit, and makes the next ones wait
    (PostgreSQL; SQLite runs one writer at a time). A campaign switched on takes in the
    members under it: each lead is among them, or entered after and is announced
    (`membership_changed`) once the campaign is on."""
    membership.lock([segment_id], shared=False)


@dataclass
class Preview:
    count: int
    sample: list[Lead]


def preview(who: User | Actor | None, tree: Any, *, sample: int = 10) -> Preview:
    """How many leads a filter matches now, and the hottest few (the builder's live
    count). Managers only: the count is of every lead."""
    _manager(who)
    tree = filters.validate(tree)
    leads = filters.lead_queryset(tree)
    return Preview(leads.count(), list(leads.order_by("-score", "-id")[:sample]))


# --- writing segments -------------------------------------------------------------------

def _clean(name: Any, description: Any) -> tuple[str, str]:
    name = " ".join(str(name or "").split())
    if not name:
        raise InvalidInput(_("Give the segment a name."), field="name")
    if len(name) > 120:
        raise InvalidInput(_("A segment's name has at most 120 characters."), field="name")
    description = str(description or "").strip()
    if "\x00" in name + description:
        raise InvalidInput(_("Text may not contain NUL characters."), field="description")
    return name, description


def _derive(segment: Segment) -> None:
    segment.time_dependent = language.is_time_dependent(segment.filter)
    segment.reads_segments = sorted(language.references(segment.filter, "segment"))


def create_segment(who: User | Actor | None, *, name: str, filter: Any,
                   description: str = "", active: bool = True) -> Segment:
    """A new segment, `building` on return: a worker builds it (segments.builds); its
    name is unique (Conflict otherwise)."""
    actor = _manager(who)
    name, description = _clean(name, description)
    tree = filters.validate(filter)
    now = clock.now()
    segment = Segment(name=name, description=description, filter=tree, active=active,
                      created_by=actor.user, created_at=now, updated_at=now)
    _derive(segment)
    try:
        with transaction.atomic():
            builds.queue(segment, now)
            segment.save()
    except IntegrityError:
        raise Conflict(_("A segment named %(name)r exists already.") % {"name": name},
                       field="name") from None
    return segment


def update_segment(who: User | Actor | None, segment: Segment, *, name: str | None = None,
                   description: str | None = None, filter: Any = None,
                   active: bool | None = None) -> Segment:
    """Change a segment; a new filter (or switching it on) queues its rebuild: it is
    `building` on return, until a worker has rebuilt it."""
    _manager(who)
    new_name, new_description = _clean(segment.name if name is None else name,
                                       segment.description if description is None
                                       else description)
    rebuild = False
    if filter is not None:
        tree = filters.validate(filter, segment_id=segment.pk)
        rebuild = tree != segment.filter
        segment.filter = tree
    if active is not None:
        rebuild = rebuild or (active and not segment.active)
        segment.active = active
    segment.name, segment.description = new_name, new_description
    segment.updated_at = now = clock.now()
    _derive(segment)
    # Only the columns this change owns: the count, the last rebuild and the build's
    # claim are the workers' (a whole-row save would write back what it read).
    fields = ["name", "description", "filter", "active", "time_dependent",
              "reads_segments", "updated_at"]
    try:
        with transaction.atomic():
            if rebuild:
                fields += builds.queue(segment, now)
            segment.save(update_fields=fields)
    except IntegrityError:
        raise Conflict(_("A segment named %(name)r exists already.") % {"name": new_name},
                       field="name") from None
    return segment


def delete_segment(who: User | Actor | None, segment: Segment) -> None:
    """Delete a segment, its members, overrides and history; refused while another
    segment reads it, or while something else (a campaign) refers to it."""
    _manager(who)
    if readers := queries.readers_of(segment):
        raise Conflict(_("The segment %(name)r reads this one: change it first.")
                       % {"name": readers[0].name})
    try:
        with transaction.atomic():
            segment.delete()
    except ProtectedError:
        raise Conflict(_("Something uses this segment (a campaign?): it cannot be "
                         "deleted.")) from None


def rebuild_segment(who: User | Actor | None, segment: Segment) -> Segment:
    """Rebuild now, in a worker: queue the recomputation of the segment's members from
    its filter and overrides (segments.builds.run_due); `building` on return. A rebuild
    already waiting for a worker is left as it is."""
    _manager(who)
    with transaction.atomic():
        waiting = Segment.objects.filter(pk=segment.pk, build_state=Segment.BuildState.BUILDING,
                                         claimed_by="").exists()
        if not waiting:
            fields = builds.queue(segment, clock.now())
            Segment.objects.filter(pk=segment.pk).update(
                **{f: getattr(segment, f) for f in fields})
    segment.refresh_from_db()
    return segment


def _resolve(actor: Actor, lead_ids: Sequence[int]) -> list[int]:
    """The ids among `lead_ids` of leads the actor may see (never an erased one)."""
    if len(lead_ids) > MAX_ITEMS:
        raise InvalidInput(_("At most %(n)s leads per request: send several batches.")
                           % {"n": f"{MAX_ITEMS:,}"}, field="lead_ids")
    ids = sorted({int(i) for i in lead_ids if valid_id(int(i))})
    if not ids:
        return []
    leads = Lead.objects.filter(erased_at__isnull=True, pk__among=ids)
    if actor.user is not None:
        leads = scoped(leads, actor.user)
    return sorted(leads.values_list("pk", flat=True))


def include(who: User | Actor | None, segment: Segment, lead_ids: Sequence[int],
            reason: str = "") -> list[int]:
    """Keep these leads in the segment whatever its filter says (until excluded); they
    are members on return. Leads the actor does not see are left out. Returns the
    leads that entered."""
    actor = _manager(who)
    ids = _resolve(actor, lead_ids)
    reason = str(reason or "").replace("\x00", "")  # PostgreSQL stores no NUL
    why = f"added by {_who(actor)}" + (f": {reason}" if reason else "")
    return membership.set_overrides(segment, ids, include=True, by=_who(actor),
                                    reason=why)[0]


def exclude(who: User | Actor | None, segment: Segment, lead_ids: Sequence[int],
            reason: str = "") -> list[int]:
    """Keep these leads out of the segment whatever its filter says (until included);
    Returns the leads that left."""
    actor = _manager(who)
    ids = _resolve(actor, lead_ids)
    reason = str(reason or "").replace("\x00", "")
    why = f"removed by {_who(actor)}" + (f": {reason}" if reason else "")
    return membership.set_overrides(segment, ids, include=False, by=_who(actor),
                                    reason=why)[1]


def clear_overrides(who: User | Actor | None, segment: Segment,
                    lead_ids: Sequence[int]) -> int:
    """Let these leads follow the filter again (their include or exclude is dropped);
    they are re-evaluated at once. Returns how many overrides were dropped."""
    actor = _manager(who)
    ids = _resolve(actor, lead_ids)
    with transaction.atomic():
        dropped, _ = SegmentOverride.objects.filter(segment=segment,
                                                    lead_id__among=ids).delete() if ids \
            else (0, {})
        SegmentMember.objects.filter(segment=segment, lead_id__among=ids).update(manual=False) \
            if ids else None
        membership.refresh_leads(ids, segments=[segment] if segment.active else [])
    return dropped


# --- keeping membership current ------------------------------------------------------

def _watched_types() -> set[str] | None:
    """The event types that can change some active segment's membership: None for any
    (a filter reading lead fields or scores), an empty set when there is no active
    segment. One query."""
    types: set[str] = set()
    for tree in Segment.objects.filter(active=True).values_list("filter", flat=True):
        for leaf in language.leaves(tree):
            spec = language.behaviour(leaf)
            if spec is None:
                return None
            types.add(spec.type)
    return types


def on_events(batch: Batch) -> None:
    """Pipeline step: queue the batch's leads whose memberships may have changed (one
    INSERT, none when no active segment reads what the batch carries); a worker is
    woken after the commit."""
    events = [e for e in batch.events if e.lead_id is not None]
    if not events and not batch.new_leads:
        return
    types = _watched_types()
    if types is not None:
        if not types:
            return
        events = [e for e in events if e.type in types]
    ids = {e.lead_id for e in events} | (set(batch.new_leads) if types is None else set())
    mark_dirty(ids)


def refresh_due(worker: str = "") -> int:
    """Periodic job: re-evaluate the queued leads against every active segment, BATCH
    leads per transaction. Returns how many memberships changed."""
    changed = 0
    for _round in range(ROUNDS):
        with transaction.atomic():
            claimed = _claim(BATCH)
            if not claimed:
                break
            causes: dict[int, str] = {}
            for lead_id, cause in claimed:
                if causes.get(lead_id) != "time":
                    causes[lead_id] = cause
            changed += membership.refresh_leads(sorted(causes), causes)
    return changed


def _claim(limit: int) -> list[tuple[int, str]]:
    """Take up to `limit` queued rows (deleted now, back if the transaction rolls back);
    rows another worker holds are skipped."""
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked \
        else ""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM segments_dirtylead WHERE id IN (SELECT id FROM "  # noqa: S608
                       f"segments_dirtylead ORDER BY id LIMIT %s{lock}) "
                       "RETURNING lead_id, cause", [limit])
        return cursor.fetchall()


# --- why -------------------------------------------------------------------------------

@dataclass
class Explanation:
    segment: Segment
    member: bool
    since: datetime | None
    override: str  # "include", "exclude" or ""
    matches: bool
    conditions: evaluate.Explained


def explain(segment: Segment, lead: Lead) -> Explanation:
    """Why the lead is (or is not) in the segment: its membership, any override, and each
    condition of the filter as it holds now, with the events that satisfy the
    behaviour conditions."""
    row = SegmentMember.objects.filter(segment=segment, lead=lead).first()
    override = SegmentOverride.objects.filter(segment=segment, lead=lead).values_list(
        "include", flat=True).first()
    facts = evaluate.load(segment.filter, [lead.pk])
    tree = evaluate.explain(segment.filter, lead.pk, facts)
    return Explanation(segment, row is not None, row.since if row else None,
                       "" if override is None else ("include" if override else "exclude"),
                       tree.holds and lead.pk in facts.values, tree)


def explain_lead(user: User, lead: Lead) -> list[Explanation]:
    """Why the lead is in each of its segments (the caller made sure `user` sees it): a
    few queries whatever the number of segments (the facts are read once for all)."""
    members = queries.segments_of(user, lead)
    if not members:
        return []
    overrides = dict(SegmentOverride.objects.filter(
        lead=lead, segment_id__in=[m.segment_id for m in members]).values_list(
        "segment_id", "include"))
    facts = evaluate.load({"all": [m.segment.filter for m in members]}, [lead.pk])
    out = []
    for m in members:
        tree = evaluate.explain(m.segment.filter, lead.pk, facts)
        override = overrides.get(m.segment_id)
        out.append(Explanation(m.segment, True, m.since, "" if override is None else (
            "include" if override else "exclude"), tree.holds and lead.pk in facts.values,
            tree))
    return out
