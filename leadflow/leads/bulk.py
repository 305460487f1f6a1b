"""Set-based create-or-update of leads: imports, POST /api/v1/leads/bulk, and (as a batch
of one) every single-lead write (leads.services.upsert_lead). One implementation, so the
paths cannot disagree. Per chunk of rows: one query finds (and locks) the known leads, one
bulk_update stores the changed ones, one record_events call writes the timeline and,
through the event pipeline, the new leads (their ids reserved first, so that each new row
is written once, with its points).

What a row does, whichever way it came in:
- It matches the lead with its email (trimmed, lower-cased), else its external id. When
  the email names one lead and the external id another, the row is a conflict naming the
  clash: nothing changes.
- A row matching a lead the actor may not change (a rep, another rep's lead:
  accounts.permissions.may_change_lead) is a conflict too: the lead does not change, the
  answer carries none of its fields, and the submitted values (and `note`) become one
  `change_proposed` event on that lead, which its owner reads on the timeline.
- Only the fields given change; a public channel (Actor.public, not trusted) only fills
  empty ones. An email or external id is added to a known lead only where it has none.
- A new lead's first touch (channel, source, UTM) and its time are set once and kept. Its
  channel defaults to where it came from (API, import; else "other").
- The last touch moves only when the row brings a touch that differs from it, so that
  re-sending the same data changes nothing and records nothing.
- Quality flags and duplicate keys are recomputed; `lead_created`, `lead_updated` and
  `quality_flags_changed` are recorded; duplicates are looked for; new leads are routed.

Bulk rows must carry an email or an external id (else every replay would add a lead); a
single write (`require_identifier=False`) may not (quick add by phone). Bad rows get an
error result and never stop the good ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from psycopg import errors as psycopg_errors

from leadflow.accounts.permissions import Actor, may_change_lead
from leadflow.core import clock
from leadflow.core.addresses import normalise_email
from leadflow.core.errors import InvalidInput
from leadflow.core.sqlarrays import builder, bulk_insert, reserve_ids
from leadflow.leads import dedupe, quality
from leadflow.leads.models import Channel, CustomFieldDefinition, Lead
from leadflow.leads.services import (
    _clean,
    _clean_custom,
    _set_derived,
    clean_external_id,
    fill_empty,
)
from leadflow.leads.signals import leads_to_route
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from datetime import datetime

    from leadflow.accounts.models import User

CHUNK_SIZE = 5000
TOUCH = ("channel", "source", "medium", "campaign")
CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"
CONFLICT = "conflict"
ANOTHER_REP = gettext_noop("This lead is handled by another rep.")
# Kept by leads.services from the lead's values (quality flags, duplicate keys).
DERIVED = ("quality_flags", "contact_data_incorrect", "email_domain", "name_key")
NOT_FIELDS = {"last_touch", *DERIVED}  # changed, but not named in lead_updated
IDENTITY = {"email", "phone", "first_name", "last_name", "quality_flags"}


@dataclass
class RowResult:
    status: str
    lead: Lead | None = None
    message: str = ""
    field: str | None = None
    changed: list[str] = dataclasses.field(default_factory=list)

    @property
    def lead_id(self) -> int | None:
        return self.lead.pk if self.lead is not None else None


@dataclass
class _Row:
    email: str | None
    external_id: str | None
    fields: dict[str, Any]
    custom: dict[str, Any]
    unknown_country: bool = False  # a country was given but matched no code
    note: str = ""  # goes with a proposal to another rep (quick add)


def bulk_upsert(rows: Sequence[dict[str, Any]], *, via: str = Event.Via.API,
                actor: User | Actor | None = None, route: bool = True,
                dry_run: bool = False,
                definitions: dict[str, CustomFieldDefinition] | None = None,
                occurred_at: datetime | None = None,
                require_identifier: bool = True) -> list[RowResult]:
    """Create or update one lead per row (dicts shaped like upsert_lead's data, see the
    module docstring for the rules); returns one RowResult per row, in order. New leads
    are routed unless `route` is False (the caller then routes them with routing's route_leads,
    e.g. after giving some an owner). `dry_run` validates and compares everything and
    writes nothing. `definitions` (custom fields by key) lets a dry run validate against
    fields not declared yet. `occurred_at` dates the touch (default: now).
    Precondition: the caller may create leads (any API user; admin/marketing for imports).
    """
    who = Actor.of(actor)
    if definitions is None:
        definitions = {d.key: d for d in CustomFieldDefinition.objects.all()}
    options: dict[str, Any] = {
        "via": via, "who": who, "route": route, "dry_run": dry_run,
        "definitions": definitions, "occurred_at": occurred_at,
        "require_identifier": require_identifier}
    results: list[RowResult] = []
    for start in range(0, len(rows), CHUNK_SIZE):
        chunk = rows[start:start + CHUNK_SIZE]
        try:
            results.extend(_upsert_chunk(chunk, **options))
        except IntegrityError:
            # Another writer created some of these leads meanwhile: look them up again.
            results.extend(_upsert_chunk(chunk, **options))
    return results


def bulk_summary(results: Sequence[RowResult]) -> dict[str, Any]:
    """Counts and per-row results, as the bulk API answers them (a conflict's lead id is
    not given: the lead is outside the caller's reach)."""
    counts = {s: 0 for s in (CREATED, UPDATED, UNCHANGED, ERROR, CONFLICT)}
    for r in results:
        counts[r.status] += 1
    return {"created": counts[CREATED], "updated": counts[UPDATED],
            "unchanged": counts[UNCHANGED], "errors": counts[ERROR],
            "conflicts": counts[CONFLICT],
            "results": [{"index": i, "status": r.status, "id": r.lead_id,
                         "message": r.message, "field": r.field}
                        for i, r in enumerate(results)]}


def _validate(data: Any, definitions: dict[str, CustomFieldDefinition],
              require_identifier: bool) -> _Row:
    if isinstance(data, InvalidInput):  # the caller already found this row malformed
        raise data
    if not isinstance(data, dict):
        raise InvalidInput(_("Each lead must be an object."))
    email = normalise_email(data.get("email"))
    external_id = clean_external_id(data.get("external_id"))
    if require_identifier and not email and not external_id:
        raise InvalidInput(_("needs an email or an external_id"), field="email")
    fields = _clean(data)
    unknown = "country" in fields and not fields["country"] and bool(
        str(data.get("country") or "").strip())
    return _Row(email, external_id, fields, _clean_custom(data.get("custom"), definitions),
                unknown, str(data.get("note") or "").strip())


def _upsert_chunk(chunk: Sequence[dict[str, Any]], *, dry_run: bool,
                  **options: Any) -> list[RowResult]:
    # The known leads are locked from the lookup on: the rows written back carry the
    # values read, so nobody else may change them in between.
    with nullcontext() if dry_run else transaction.atomic():
        return _plan_and_write(chunk, dry_run=dry_run, **options)


def _plan_and_write(chunk: Sequence[dict[str, Any]], *, via: str, who: Actor, route: bool,
                    dry_run: bool, definitions: dict[str, CustomFieldDefinition],
                    occurred_at: datetime | None,
                    require_identifier: bool) -> list[RowResult]:
    from leadflow.tracking.services import NewEvent, record_events

    results: list[RowResult] = []
    valid: list[tuple[int, _Row]] = []
    for i, data in enumerate(chunk):
        try:
            valid.append((i, _validate(data, definitions, require_identifier)))
            results.append(RowResult(UNCHANGED))
        except InvalidInput as exc:
            results.append(RowResult(ERROR, message=exc.message, field=exc.field))
    by_email, by_ext = _known(valid, lock=not dry_run)

    now = clock.now()
    at = occurred_at or now
    new: dict[int, Lead] = {}  # id() -> lead, in creation order
    flags_before: dict[int, tuple[Lead, list[str]]] = {}  # id() -> (lead, flags before)
    changed: dict[int, tuple[Lead, set[str]]] = {}  # lead pk -> (lead, changed fields)
    proposals: list[tuple[Lead, _Row]] = []
    for i, row in valid:
        found, clash = _match(row, by_email, by_ext)
        if clash:
            results[i] = RowResult(CONFLICT, message=clash, field="external_id")
            continue
        if found is None:
            lead = _new_lead(row, via=via, now=now, at=at)
            new[id(lead)] = lead
            flags_before[id(lead)] = (lead, [])
            results[i] = RowResult(CREATED, lead)
        elif id(found) not in new and not may_change_lead(
                who, owner_id=found.owner_id, team_id=found.team_id):
            proposals.append((found, row))
            results[i] = RowResult(CONFLICT, message=_(ANOTHER_REP))
            continue
        else:
            lead = found
            flags_before.setdefault(id(lead), (lead, list(lead.quality_flags)))
            names = _apply(lead, row, by_email, by_ext, now=now, at=at,
                           fills_only=who.fills_only)
            if not names:
                results[i] = RowResult(UNCHANGED, lead)
                continue
            results[i] = RowResult(UPDATED, lead, changed=sorted(names - NOT_FIELDS))
            if lead.pk is not None:
                _lead, before = changed.setdefault(lead.pk, (lead, set()))
                before.update(names)
        if lead.email:
            by_email[lead.email] = lead
        if lead.external_id:
            by_ext[lead.external_id] = lead
    if dry_run:
        return results

    # The new leads' rows are written by the event pipeline, once, with the points their
    # events earn (leads.totals); their ids are needed first, for the events.
    created = list(new.values())
    for lead, pk in zip(created, reserve_ids(Lead, len(created)), strict=True):
        lead.pk = pk
    if changed:
        update_fields = set().union(*(names for _, names in changed.values()))
        if "last_touch" in update_fields:
            update_fields.add("last_touch_at")
        Lead.objects.bulk_update([lead for lead, _ in changed.values()],
                                 sorted(update_fields | {"updated_at"}), batch_size=1000)
    # Dated like the leads' first touch, so the pipeline's last-touch update finds
    # nothing to rewrite (it would otherwise rewrite every new row once more).
    events = [NewEvent(type=EventType.LEAD_CREATED, lead_id=lead.pk, occurred_at=at,
                       properties={k: getattr(lead, k) for k in TOUCH})
              for lead in created]
    events += [NewEvent(type=EventType.LEAD_UPDATED, lead_id=pk, occurred_at=occurred_at,
                        properties={"changed": sorted(names - NOT_FIELDS)})
               for pk, (_, names) in changed.items() if names - NOT_FIELDS]
    events += [NewEvent(type=quality.FLAGS_CHANGED_EVENT, lead_id=lead.pk,
                        occurred_at=occurred_at,
                        properties={"flags": lead.quality_flags,
                                    "added": sorted(set(lead.quality_flags) - set(before)),
                                    "removed": sorted(set(before) - set(lead.quality_flags))})
               for lead, before in flags_before.values() if lead.quality_flags != before]
    events += [NewEvent(type=EventType.CHANGE_PROPOSED, lead_id=lead.pk,
                        properties=_proposal(row)) for lead, row in proposals]
    if events or created:
        record_events(events, via=via, actor=who.user, new_leads=created)
    _suggest_duplicates([lead.pk for lead in created] + [
        pk for pk, (_, names) in changed.items() if names & IDENTITY])
    if route and created:
        leads_to_route.send(sender=Lead, leads=created)
    return results


def _known(valid: list[tuple[int, _Row]], *, lock: bool
           ) -> tuple[dict[str, Lead], dict[str, Lead]]:
    """The known leads the rows name, by email and by external id: one query, the rows
    locked in id order when `lock` (concurrent writers then cannot deadlock)."""
    emails = {r.email for _, r in valid if r.email}
    ext_ids = {r.external_id for _, r in valid if r.external_id}
    by_email: dict[str, Lead] = {}
    by_ext: dict[str, Lead] = {}
    if emails or ext_ids:
        known = Lead.objects.filter(Q(email__in=emails) | Q(external_id__in=ext_ids))
        if lock:
            known = known.select_for_update(no_key=True).order_by("pk")
        for lead in known:
            if lead.email:
                by_email[lead.email] = lead
            if lead.external_id:
                by_ext[lead.external_id] = lead
    return by_email, by_ext


def _match(row: _Row, by_email: dict[str, Lead], by_ext: dict[str, Lead]
           ) -> tuple[Lead | None, str]:
    """The lead a row names (by email, else external id), or the clash when its email and
    its external id name two different leads."""
    by_mail = by_email.get(row.email) if row.email else None
    by_id = by_ext.get(row.external_id) if row.external_id else None
    if by_mail is not None and by_id is not None and by_mail is not by_id:
        return None, _("The email %(email)s and the external_id %(external_id)s belong to "
                       "two different leads: send one of them, or merge the two leads "
                       "first.") % {"email": row.email, "external_id": row.external_id}
    return by_mail or by_id, ""


def _proposal(row: _Row) -> dict[str, Any]:
    """What a `change_proposed` event keeps: the values submitted (as cleaned), and the
    note."""
    values = {k: v for k, v in (("email", row.email), ("external_id", row.external_id))
              if v}
    values.update(row.fields)
    proposal: dict[str, Any] = {"values": values}
    if row.custom:
        proposal["custom"] = row.custom
    if row.note:
        proposal["note"] = row.note
    return proposal


# Up to this many leads, duplicates are looked for at once (as upsert_lead does); beyond,
# by the worker: comparing names within each company domain costs far more than the
# import itself (100,000 rows: minutes instead of seconds).
SYNC_DEDUPE = 1000


def _suggest_duplicates(lead_ids: list[int]) -> None:
    """Likely duplicates of the leads that are new or changed in who they are."""
    if len(lead_ids) <= SYNC_DEDUPE:
        dedupe.refresh_for(lead_ids)
        return
    from leadflow.leads.tasks import refresh_duplicates_task

    transaction.on_commit(lambda: refresh_duplicates_task.enqueue(lead_ids))


def insert_leads(leads: list[Lead]) -> None:
    """Insert new leads (their ids set, or reserved and given): by COPY on PostgreSQL
    (compiling a 1,000-row INSERT of a 40-column table cost more than the rest of the
    import). A duplicate email or external id raises IntegrityError either way."""
    try:
        bulk_insert(Lead, leads, _COPY_FIELDS)
    except psycopg_errors.UniqueViolation as exc:
        raise IntegrityError(str(exc)) from exc


_COPY_FIELDS = [f.name for f in Lead._meta.concrete_fields if not f.primary_key]


@cache
def _layout() -> tuple[list[str], dict[str, Any], list[models.Field], Callable[..., Lead]]:
    """Lead's columns in order, their constant defaults, the fields whose default is made
    per instance (a fresh dict or list), and a positional constructor."""
    fields = Lead._meta.concrete_fields
    fresh = [f for f in fields if f.has_default() and callable(f.default)]
    static = {f.attname: f.get_default() for f in fields if f not in fresh}
    names = [f.attname for f in fields]
    return names, static, fresh, builder(Lead, names)


def _new_lead(row: _Row, *, via: str, now: datetime, at: datetime) -> Lead:
    touch = {k: row.fields.get(k, "") for k in TOUCH}
    if not row.fields.get("channel"):
        channels: dict[str, str] = {Event.Via.API: Channel.API,
                                    Event.Via.IMPORT: Channel.IMPORT}
        touch["channel"] = channels.get(via, Channel.OTHER)
    names, static, fresh, build = _layout()
    values = dict(static)
    for f in fresh:
        values[f.attname] = f.get_default()
    values.update(row.fields, channel=touch["channel"], email=row.email,
                  external_id=row.external_id, custom=row.custom, created_at=now,
                  updated_at=now, first_touch=touch, last_touch=dict(touch),
                  first_touch_at=at, last_touch_at=at)
    if values.get("phone"):
        values["phone"] = quality.normalise_phone(values["phone"], values["country"] or None)[0]
    # Positional, without Model.__init__ (sqlarrays.builder), per row of 100,000.
    lead = build(*[values[n] for n in names])
    _set_derived(lead, row.unknown_country)
    return lead


def _apply(lead: Lead, row: _Row, by_email: dict[str, Lead], by_ext: dict[str, Lead], *,
           now: datetime, at: datetime, fills_only: bool) -> set[str]:
    """Change `lead` in memory by `row`; returns the names of what changed."""
    names: set[str] = set()
    fields, custom = row.fields, row.custom
    if fills_only:
        fields, custom = fill_empty(lead, fields, custom, touch=lead.pk is None)
    if fields.get("phone"):
        hint = fields.get("country") or lead.country
        fields = {**fields, "phone": quality.normalise_phone(fields["phone"], hint or None)[0]}
    # An identifier another lead already holds is not moved (the unique constraint).
    if row.email and not lead.email and row.email not in by_email:
        lead.email = row.email
        names.add("email")
    if row.external_id and not lead.external_id and row.external_id not in by_ext:
        lead.external_id = row.external_id
        names.add("external_id")
    for name, value in fields.items():
        if name not in TOUCH and getattr(lead, name) != value:
            setattr(lead, name, value)
            names.add(name)
    touch = {k: fields[k] for k in TOUCH if fields.get(k)}
    if touch and any(lead.last_touch.get(k) != v for k, v in touch.items()):
        lead.last_touch = touch
        if lead.last_touch_at is None or lead.last_touch_at < at:  # never back in time
            lead.last_touch_at = at
        names.add("last_touch")
    if custom:
        merged = {**lead.custom, **custom}
        if merged != lead.custom:
            lead.custom = merged
            names.add("custom")
    derived = {name: getattr(lead, name) for name in DERIVED}
    unknown = row.unknown_country if "country" in fields else (
        quality.UNKNOWN_COUNTRY in lead.quality_flags)
    _set_derived(lead, unknown)
    names.update(name for name in DERIVED if getattr(lead, name) != derived[name])
    if names:
        lead.updated_at = now
    return names
