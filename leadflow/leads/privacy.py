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
Access and erasure requests are logged on the "leadflow.security" logger.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict

from leadflow.core import clock
from leadflow.core.errors import Forbidden
from leadflow.leads.merge import _relations, snapshot
from leadflow.leads.models import Consent, DuplicateSuggestion, ErasureRecord, Lead, LeadMerge

if TYPE_CHECKING:
    from leadflow.accounts.models import User

security = logging.getLogger("leadflow.security")

CONSENT_WITHDRAWN_EVENT = "consent_withdrawn"
FORMAT_VERSION = 1
# Kept on the tombstone: what reports group and count by. Everything else is blanked.
KEPT_ON_TOMBSTONE = {"id", "owner_id", "team_id", "assigned_at", "stage", "stage_changed_at",
                     "channel", "source", "medium", "campaign", "first_touch_at",
                     "last_touch_at", "created_at"}
encoder = DjangoJSONEncoder()


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


@transaction.atomic
def erase_lead(lead: Lead, *, actor: User) -> ErasureRecord:
    """Erase a person: delete their rows and blank the lead into an anonymous tombstone
    (see the module docstring). Preconditions: `actor` is an admin or in marketing
    (Forbidden otherwise) and may see the lead. Returns the ErasureRecord."""
    from leadflow.lifecycle.models import StageChange
    from leadflow.tracking.models import Event, Visitor

    if not can_erase(actor):
        raise Forbidden("Only administrators and marketing may erase a person.")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    deleted: dict[str, int] = {}
    visitor_ids = list(Visitor.objects.filter(lead=lead).values_list("visitor_id", flat=True))
    if visitor_ids:
        deleted["tracking.Event(anonymous)"] = Event.objects.filter(
            lead__isnull=True, visitor_id__in=visitor_ids).delete()[0]
    for model, fk in _relations():
        rows = model._default_manager.filter(**{fk: lead})
        if model is StageChange:
            rows.update(reason="")
            continue
        count = rows.delete()[0]
        if count:
            deleted[model._meta.label] = count
    LeadMerge.objects.filter(kept=lead).delete()
    DuplicateSuggestion.objects.filter(lead_a=lead).delete()
    DuplicateSuggestion.objects.filter(lead_b=lead).delete()
    blank = Lead()  # the defaults: empty strings, None, {} and []
    for field in Lead._meta.concrete_fields:
        if field.attname not in KEPT_ON_TOMBSTONE:
            setattr(lead, field.attname, getattr(blank, field.attname))
    now = clock.now()
    lead.do_not_email = lead.do_not_call = True
    lead.erased_at = lead.updated_at = now
    lead.save(update_fields=[f.name for f in Lead._meta.concrete_fields
                             if f.attname not in KEPT_ON_TOMBSTONE])
    record = ErasureRecord.objects.create(lead_id=lead.pk, actor=actor, erased_at=now,
                                          deleted=deleted)
    security.warning("personal data erased", extra={"lead_id": lead.pk,
                                                    "actor_id": actor.pk,
                                                    "erasure_id": record.pk})
    return record
