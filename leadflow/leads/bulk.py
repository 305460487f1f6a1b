"""Set-based create-or-update of many leads: imports and POST /api/v1/leads/bulk.

The semantics are those of leads.services.upsert_lead (match by email, else external id;
only the fields given change; the first touch stays), with the same validation helpers,
but per chunk of rows: one query finds the known leads, one bulk_update stores the changed
ones, one record_events call writes the timeline and, through the event pipeline, the new
leads (their ids reserved first, so that each new row is written once, with its points).

Two deliberate differences, so that re-sending the same data changes nothing and records
nothing: a row must carry an email or an external id (else every replay would add a lead),
and a known lead's last touch moves only when the row's touch differs from it.
Bad rows get an error result and never stop the good ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from psycopg import errors as psycopg_errors

from leadflow.core import clock
from leadflow.core.errors import InvalidInput
from leadflow.core.sqlarrays import builder, bulk_insert, reserve_ids
from leadflow.leads import dedupe, quality
from leadflow.leads.models import Channel, CustomFieldDefinition, Lead
from leadflow.leads.services import (
    _clean,
    _clean_custom,
    _set_derived,
    clean_external_id,
)
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

CHUNK_SIZE = 5000
TOUCH = ("channel", "source", "medium", "campaign")
CREATED, UPDATED, UNCHANGED, ERROR = "created", "updated", "unchanged", "error"
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


def bulk_upsert(rows: Sequence[dict[str, Any]], *, via: str = Event.Via.API,
                actor: User | None = None, route: bool = True, dry_run: bool = False,
                definitions: dict[str, CustomFieldDefinition] | None = None
                ) -> list[RowResult]:
    """Create or update one lead per row (dicts shaped like upsert_lead's data); returns
    one RowResult per row, in order. New leads are routed unless `route` is False (the
    caller then routes them with route_leads, e.g. after giving some an owner).
    `dry_run` validates and compares everything and writes nothing. `definitions` (custom
    fields by key) lets a dry run validate against fields not declared yet.
    Precondition: the caller may create leads (any API user; admin/marketing for imports).
    """
    if definitions is None:
        definitions = {d.key: d for d in CustomFieldDefinition.objects.all()}
    results: list[RowResult] = []
    for start in range(0, len(rows), CHUNK_SIZE):
        chunk = rows[start:start + CHUNK_SIZE]
        try:
            results.extend(_upsert_chunk(chunk, via=via, actor=actor, route=route,
                                         dry_run=dry_run, definitions=definitions))
        except IntegrityError:
            # Another writer created some of these leads meanwhile: look them up again.
            results.extend(_upsert_chunk(chunk, via=via, actor=actor, route=route,
                                         dry_run=dry_run, definitions=definitions))
    return results


def bulk_summary(results: Sequence[RowResult]) -> dict[str, Any]:
    """Counts and per-row results, as the bulk API answers them."""
    counts = {s: 0 for s in (CREATED, UPDATED, UNCHANGED, ERROR)}
    for r in results:
        counts[r.status] += 1
    return {"created": counts[CREATED], "updated": counts[UPDATED],
            "unchanged": counts[UNCHANGED], "errors": counts[ERROR],
            "results": [{"index": i, "status": r.status, "id": r.lead_id,
                         "message": r.message, "field": r.field}
                        for i, r in enumerate(results)]}


def _validate(data: Any, definitions: dict[str, CustomFieldDefinition]) -> _Row:
    if isinstance(data, InvalidInput):  # the caller already found this row malformed
        raise data
    if not isinstance(data, dict):
        raise InvalidInput("Each lead must be an object.")
    email = quality.normalise_email(data.get("email"))
    external_id = clean_external_id(data.get("external_id"))
    if not email and not external_id:
        raise InvalidInput("needs an email or an external_id", field="email")
    fields = _clean(data)
    unknown = "country" in fields and not fields["country"] and bool(
        str(data.get("country") or "").strip())
    return _Row(email, external_id, fields, _clean_custom(data.get("custom"), definitions),
                unknown)


def _upsert_chunk(chunk: Sequence[dict[str, Any]], *, via: str, actor: User | None,
                  route: bool, dry_run: bool,
                  definitions: dict[str, CustomFieldDefinition]) -> list[RowResult]:
    from leadflow.tracking.services import NewEvent, record_events

    results: list[RowResult] = []
    valid: list[tuple[int, _Row]] = []
    for i, data in enumerate(chunk):
        try:
            valid.append((i, _validate(data, definitions)))
            results.append(RowResult(UNCHANGED))
        except InvalidInput as exc:
            results.append(RowResult(ERROR, message=exc.message, field=exc.field))
    emails = {r.email for _, r in valid if r.email}
    ext_ids = {r.external_id for _, r in valid if r.external_id}
    by_email: dict[str, Lead] = {}
    by_ext: dict[str, Lead] = {}
    if emails or ext_ids:
        for lead in Lead.objects.filter(Q(email__in=emails) | Q(external_id__in=ext_ids)):
            if lead.email:
                by_email[lead.email] = lead
            if lead.external_id:
                by_ext[lead.external_id] = lead

    now = clock.now()
    new: dict[int, Lead] = {}  # id() -> lead, in creation order
    flags_before: dict[int, tuple[Lead, list[str]]] = {}  # id() -> (lead, flags before)
    changed: dict[int, tuple[Lead, set[str]]] = {}  # lead pk -> (lead, changed fields)
    for i, row in valid:
        found = (by_email.get(row.email) if row.email else None) or (
            by_ext.get(row.external_id) if row.external_id else None)
        if found is None:
            lead = _new_lead(row, via=via, now=now)
            new[id(lead)] = lead
            flags_before[id(lead)] = (lead, [])
            results[i] = RowResult(CREATED, lead)
        else:
            lead = found
            flags_before.setdefault(id(lead), (lead, list(lead.quality_flags)))
            names = _apply(lead, row, by_email, by_ext, now=now)
            if not names:
                results[i] = RowResult(UNCHANGED, lead)
                continue
            results[i] = RowResult(UPDATED, lead, changed=sorted(names - NOT_FIELDS))
            if lead.pk is not None:
                _, before = changed.setdefault(lead.pk, (lead, set()))
                before.update(names)
        if lead.email:
            by_email[lead.email] = lead
        if lead.external_id:
            by_ext[lead.external_id] = lead
    if dry_run:
        return results

    with transaction.atomic():
        # The new leads' rows are written by the event pipeline, once, with the points
        # their events earn (leads.totals); their ids are needed first, for the events.
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
        events = [NewEvent(type=EventType.LEAD_CREATED, lead_id=lead.pk, occurred_at=now,
                           properties={k: getattr(lead, k) for k in TOUCH})
                  for lead in created]
        events += [NewEvent(type=EventType.LEAD_UPDATED, lead_id=pk,
                            properties={"changed": sorted(names - NOT_FIELDS)})
                   for pk, (_, names) in changed.items() if names - NOT_FIELDS]
        events += [NewEvent(type=quality.FLAGS_CHANGED_EVENT, lead_id=lead.pk,
                            properties={"flags": lead.quality_flags,
                                        "added": sorted(set(lead.quality_flags) - set(before)),
                                        "removed": sorted(set(before) - set(lead.quality_flags))})
                   for lead, before in flags_before.values() if lead.quality_flags != before]
        if events or created:
            record_events(events, via=via, actor=actor, new_leads=created)
        _suggest_duplicates([lead.pk for lead in created] + [
            pk for pk, (_, names) in changed.items() if names & IDENTITY])
        if route:
            route_leads(created)
    return results


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


def _new_lead(row: _Row, *, via: str, now: Any) -> Lead:
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
                  first_touch_at=now, last_touch_at=now)
    if values.get("phone"):
        values["phone"] = quality.normalise_phone(values["phone"], values["country"] or None)[0]
    # Positional, without Model.__init__ (sqlarrays.builder), per row of 100,000.
    lead = build(*[values[n] for n in names])
    _set_derived(lead, row.unknown_country)
    return lead


def _apply(lead: Lead, row: _Row, by_email: dict[str, Lead], by_ext: dict[str, Lead], *,
           now: Any) -> set[str]:
    """Change `lead` in memory as upsert_lead would; returns the names of what changed."""
    names: set[str] = set()
    fields = row.fields
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
        lead.last_touch, lead.last_touch_at = touch, now
        names.add("last_touch")
    if row.custom:
        merged = {**lead.custom, **row.custom}
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


def route_leads(leads: Sequence[Lead]) -> None:
    """Route new, unowned leads to reps, as one set (routing.services.route_leads: a
    constant number of queries whatever their number)."""
    from leadflow.routing.services import route_leads as route

    route(leads)
