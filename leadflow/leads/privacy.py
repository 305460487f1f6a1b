"""Personal data: the consent ledger, access (export everything held on a person) and
erasure.

Erasure keeps an anonymous tombstone: the Lead row stays with only what reports count
(stage, channel, source/medium/campaign, owner, team, created_at) and `erased_at` set;
every personal value is blanked and every row about the person (events, including the
anonymous visits of their browsers, consents with their IPs, emails, score entries,
enrollments, visitors, opt-ins, merge snapshots, duplicate suggestions) is deleted. Stage
history is kept with its free-text reasons blanked (the funnel reports read it). So
report totals for past periods do not change after an erasure; the tombstone is left out
of lists, search, exports, the lead page and the API (get_visible_lead/search_leads).
The stores that know the person only by email or name (the admin log, email rows and
sent-email files, import files and their error reports) are cleaned by the store hooks;
`leadflow.leads.scan` proves nothing is left (docs/privacy.md).
Access and erasure requests are logged on the "leadflow.security" logger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from leadflow.core import clock
from leadflow.core.errors import Forbidden
from leadflow.leads import stores
from leadflow.leads.merge import _relations, snapshot
from leadflow.leads.models import Consent, DuplicateSuggestion, ErasureRecord, Lead, LeadMerge
from leadflow.tracking.models import EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

security = logging.getLogger("leadflow.security")

CONSENT_WITHDRAWN_EVENT = EventType.CONSENT_WITHDRAWN
FORMAT_VERSION = 1
# Kept on the tombstone: what reports group and count by. Everything else is blanked.
KEPT_ON_TOMBSTONE = {"id", "owner_id", "team_id", "assigned_at", "stage", "stage_changed_at",
                     "channel", "source", "medium", "campaign", "first_touch_at",
                     "last_touch_at", "created_at"}
encoder = DjangoJSONEncoder()
CHUNK = 500
# The stores outside the lead's own tables that may hold a person's data, each called with
# the list of Person being erased, inside the erasure's transaction. Ours are here; a
# higher app's store joins with register_store() in its AppConfig.ready() (emails: email
# rows; imports: files and error reports), and its folder, if on disk, in
# leadflow.leads.scan.data_folders.
_stores: list[Callable[[list[Person]], None]] = [stores.forget_in_admin_log,
                                                 stores.forget_in_sent_email_files]


def register_store(forget: Callable[[list[Person]], None]) -> None:
    if forget not in _stores:
        _stores.append(forget)


@dataclass(frozen=True)
class Person:
    """What identifies one record of a person in stores that hold no lead id (files,
    logs, messages): the lead itself, or a record merged into it earlier."""

    lead_id: int
    email: str  # lower case, "" if none
    external_id: str
    name: str  # "First Last", "" if none

    @classmethod
    def of(cls, lead_id: int, values: dict[str, Any]) -> Person:
        first, last = values.get("first_name") or "", values.get("last_name") or ""
        return cls(lead_id, (values.get("email") or "").strip().lower(),
                   values.get("external_id") or "", f"{first} {last}".strip())

    @property
    def keys(self) -> set[str]:
        """Lower-case values that name this person alone in a table's cell."""
        return {k.strip().lower() for k in (self.email, self.external_id) if k.strip()}


def consent_ledger(lead: Lead) -> list[Consent]:
    """Every grant and withdrawal, newest first."""
    return list(Consent.objects.filter(lead=lead).order_by("-recorded_at", "-id"))


def can_erase(user: User) -> bool:
    from leadflow.accounts.permissions import may_erase

    return may_erase(user)


def withdraw_consent(lead: Lead, *, actor: User | None, purpose: str = "marketing_email",
                     via: str = "ui") -> Consent:
    """Record a withdrawal in the ledger (the lead stops getting marketing email) and on
    the timeline. Allowed to anyone who may see the lead: as easy as giving consent."""
    from leadflow.leads.services import record_consent
    from leadflow.tracking.services import record_event

    with transaction.atomic():
        consent = record_consent(lead, granted=False, method=via, purpose=purpose)
        record_event(CONSENT_WITHDRAWN_EVENT, lead=lead, actor=actor, via=via,
                     properties={"purpose": purpose})
    return consent


def _rows(queryset) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in model_to_dict(row).items()} | {"id": row.pk}
            for row in queryset.order_by("pk")]


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool | dict | list) or value is None:
        return value
    return encoder.default(value) if not hasattr(value, "pk") else value.pk


def export_person(lead: Lead, *, actor: User | None) -> dict[str, Any]:
    """Everything held on one person, as JSON-ready data: the profile with its custom
    fields, then every table with rows about them (consents, events with form
    submissions, score entries, stage history, emails sent, enrollments, visitors...),
    by relation name. Logged as a security event."""
    data: dict[str, Any] = {"format": FORMAT_VERSION, "exported_at": clock.now().isoformat(),
                            "profile": snapshot(lead)}
    data["custom_fields"] = lead.custom
    for rel in Lead._meta.related_objects:
        if rel.one_to_many and rel.related_model not in (DuplicateSuggestion, LeadMerge):
            name = str(rel.get_accessor_name() or rel.related_model._meta.model_name)
            manager = rel.related_model._default_manager
            data[name] = _rows(manager.filter(**{rel.field.name: lead}))
    data["form_submissions"] = [e for e in data.get("events", [])
                                if e.get("type") == "form_submitted"]
    security.info("personal data export", extra={"lead_id": lead.pk,
                                                 "actor_id": getattr(actor, "pk", None)})
    return data


def erase_lead(lead: Lead, *, actor: User) -> ErasureRecord:
    """Erase a person: delete their rows and blank the lead into an anonymous tombstone
    (see the module docstring). Preconditions: `actor` is an admin or in marketing
    (Forbidden otherwise) and may see the lead. Returns the ErasureRecord."""
    if not can_erase(actor):
        raise Forbidden(_("Only administrators and marketing may erase a person."))
    with transaction.atomic():
        return _erase([lead.pk], actor=actor, again=True)[0]


def erase_leads(lead_ids: list[int], *, actor: User | None) -> int:
    """Erase many people at once (retention), in a constant number of queries per chunk
    of CHUNK leads, each chunk in its own transaction. `actor` None is Leadflow itself
    (the automatic retention job); a user must be allowed to erase (Forbidden otherwise).
    Leads already erased are skipped. Returns how many were erased."""
    if actor is not None and not can_erase(actor):
        raise Forbidden(_("Only administrators and marketing may erase a person."))
    ids = sorted(set(lead_ids))
    erased = 0
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            erased += len(_erase(ids[start:start + CHUNK], actor=actor, again=False))
    return erased


def _erase(lead_ids: list[int], *, actor: User | None, again: bool) -> list[ErasureRecord]:
    from leadflow.tracking.models import Event, Visitor

    # Locked in id order, like every batch write of lead rows, so that none deadlocks.
    locked = Lead.objects.select_for_update().filter(pk__in=lead_ids).order_by("pk")
    if not again:
        locked = locked.filter(erased_at__isnull=True)
    leads = list(locked)
    ids = [lead.pk for lead in leads]
    if not ids:
        return []
    # The records merged into these leads are the same people, under other addresses.
    people = [Person.of(lead.pk, vars(lead)) for lead in leads] + [
        Person.of(merged_id, values) for merged_id, values in LeadMerge.objects.filter(
            kept__in=ids, undone_at__isnull=True).values_list("merged_lead_id", "snapshot")]
    deleted: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    # The browsers linked to them and those that only claimed them (unverified identify).
    owner_of = {vid: lead_id if lead_id in deleted else claimed for vid, lead_id, claimed in
                Visitor.objects.filter(Q(lead_id__in=ids) | Q(claimed_lead_id__in=ids))
                .values_list("visitor_id", "lead_id", "claimed_lead_id")}
    if owner_of:
        anonymous = Event.objects.filter(lead__isnull=True, visitor_id__in=list(owner_of))
        _count(deleted, "tracking.Event(anonymous)", anonymous, "visitor_id", owner_of)
        anonymous.delete()
    for model, fk in _relations():
        rows = model._default_manager.filter(**{f"{fk}__in": ids})
        # A higher app's history that reports count keeps its rows, blanked of free text
        # (lifecycle.StageChange: the reason).
        if blanks := getattr(model, "ERASURE_BLANKS", ()):
            rows.update(**dict.fromkeys(blanks, ""))
            continue
        _count(deleted, model._meta.label, rows, f"{fk}_id")
        rows.delete()
    LeadMerge.objects.filter(kept__in=ids).delete()
    DuplicateSuggestion.objects.filter(lead_a__in=ids).delete()
    DuplicateSuggestion.objects.filter(lead_b__in=ids).delete()
    now = clock.now()
    Lead.objects.filter(pk__in=ids).update(**_blank() | {
        "do_not_email": True, "do_not_call": True, "erased_at": now, "updated_at": now})
    for forget in _stores:
        forget(people)
    records = ErasureRecord.objects.bulk_create(
        ErasureRecord(lead_id=pk, actor=actor, erased_at=now, deleted=deleted[pk])
        for pk in ids)
    for record in records:
        security.warning("personal data erased", extra={
            "lead_id": record.lead_id, "actor_id": getattr(actor, "pk", None),
            "erasure_id": record.pk})
    return records


def _count(deleted: dict[int, dict[str, int]], label: str, rows: QuerySet, key: str,
           lead_of: dict[Any, int] | None = None) -> None:
    """Add the rows about to be deleted to each lead's count, in one query."""
    for value, n in rows.order_by().values_list(key).annotate(n=Count("*")):
        pk = lead_of[value] if lead_of is not None else value
        deleted[pk][label] = deleted[pk].get(label, 0) + n


def _blank() -> dict[str, Any]:
    """Every personal column at its default: empty strings, None, {} and []."""
    blank = Lead()
    return {f.attname: getattr(blank, f.attname) for f in Lead._meta.concrete_fields
            if f.attname not in KEPT_ON_TOMBSTONE}
