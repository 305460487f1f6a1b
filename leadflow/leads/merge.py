"""Merging two leads that are one person, with a full audit and an undo.

merge_leads(keep, other, actor) keeps `keep` and deletes `other` after moving every row
that points at it (events, score entries, stage history, consents, emails, enrollments,
visitors, form submissions: found through Lead's relations, so new tables follow). The
LeadMerge row records which values came from where, the ids of the rows moved and a
snapshot of both leads: undo_merge() restores the snapshot under the same id and moves
those rows back.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, may_change_lead
from leadflow.core import clock
from leadflow.core.errors import Conflict, InvalidInput
from leadflow.leads import signals
from leadflow.leads.models import Consent, DuplicateSuggestion, Lead, LeadMerge
from leadflow.tracking.models import EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

log = logging.getLogger(__name__)

MERGED_EVENT = EventType.MERGED
UNDONE_EVENT = EventType.MERGE_UNDONE
# Profile values: the most recently updated lead's value wins when it has one.
NEWEST_WINS = ("first_name", "last_name", "phone", "title", "company_id", "company_name",
               "country", "city", "language")
FIRST_TOUCH = ("first_touch", "first_touch_at", "channel", "source", "medium", "campaign")
LAST_TOUCH = ("last_touch", "last_touch_at")
# Relations whose rows are bookkeeping about leads, not the lead's own history.
NOT_MOVED = (DuplicateSuggestion, LeadMerge)


def snapshot(lead: Lead) -> dict[str, Any]:
    values = {f.attname: f.value_from_object(lead) for f in Lead._meta.concrete_fields}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _restore(lead: Lead, values: dict[str, Any]) -> None:
    for field in Lead._meta.concrete_fields:
        if field.attname in values:
            setattr(lead, field.attname, field.to_python(values[field.attname]))


def _relations() -> list[tuple[type[models.Model], str]]:
    """(model, foreign key name) for every table with rows belonging to a lead."""
    found = []
    for rel in Lead._meta.related_objects:
        if rel.one_to_many and rel.related_model not in NOT_MOVED:
            found.append((rel.related_model, rel.field.name))
    return found


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def _without_scores() -> list[str]:
    """The lead's columns but its scores: those are rebuilt from the ledger next
    (recompute_scores), and named writes leave them to it."""
    scores = {"score", "fit_score", "engagement_score", "interest_score"}
    return [f.name for f in Lead._meta.concrete_fields
            if not f.primary_key and f.name not in scores]


def _pick_values(keep: Lead, other: Lead) -> dict[str, str]:
    """Set the best values on `keep`; returns field -> "kept" | "merged"."""
    sources: dict[str, str] = {}
    newest, oldest = (other, keep) if other.updated_at > keep.updated_at else (keep, other)
    for name in NEWEST_WINS:
        winner = newest if getattr(newest, name) not in ("", None) else oldest
        setattr(keep, name, getattr(winner, name))
        sources[name] = "kept" if winner is keep else "merged"
    for name in ("email", "external_id", "owner_id", "team_id", "assigned_at"):
        if getattr(keep, name) in ("", None) and getattr(other, name) not in ("", None):
            setattr(keep, name, getattr(other, name))
            sources[name] = "merged"
        else:
            sources[name] = "kept"
    keep.custom = {**oldest.custom, **newest.custom}
    sources["custom"] = "both"
    first = other if (other.first_touch_at and (not keep.first_touch_at
                                                or other.first_touch_at < keep.first_touch_at)) \
        else keep
    last = other if (other.last_touch_at and (not keep.last_touch_at
                                              or other.last_touch_at > keep.last_touch_at)) \
        else keep
    for names, winner in ((FIRST_TOUCH, first), (LAST_TOUCH, last)):
        for name in names:
            setattr(keep, name, getattr(winner, name))
            sources[name] = "kept" if winner is keep else "merged"
    stage_from = other if (other.stage_changed_at and (
        not keep.stage_changed_at or other.stage_changed_at > keep.stage_changed_at)) else keep
    keep.stage, keep.stage_changed_at = stage_from.stage, stage_from.stage_changed_at
    sources["stage"] = "kept" if stage_from is keep else "merged"
    keep.created_at = min(keep.created_at, other.created_at)
    keep.do_not_email = keep.do_not_email or other.do_not_email
    keep.do_not_call = keep.do_not_call or other.do_not_call
    latest = (Consent.objects.filter(lead__in=[keep, other])
              .order_by("-recorded_at", "-id").first())
    if latest is not None:
        keep.marketing_consent = latest.action == Consent.Action.GRANTED
        sources["marketing_consent"] = "kept" if latest.lead_id == keep.pk else "merged"
    sources["do_not_email"] = sources["do_not_call"] = "both"
    return sources


@transaction.atomic
def merge_leads(keep: Lead, other: Lead, *, actor: User | None) -> LeadMerge:
    """Merge `other` into `keep`. Preconditions: two different, existing, not erased
    leads the caller may both see (checked by the caller). Moves all of `other`'s rows
    to `keep`, picks the best values, recomputes the score from the ledger, records a
    LeadMerge audit and a `merged` event, then deletes `other`."""
    from leadflow.leads.services import refresh_derived
    from leadflow.tracking.services import record_event

    if keep.pk == other.pk:
        raise InvalidInput(_("A lead cannot be merged with itself."), field="other")
    locked = {lead.pk: lead for lead in Lead.objects.select_for_update()
              .filter(pk__in=[keep.pk, other.pk], erased_at__isnull=True)}
    if len(locked) != 2:
        raise Conflict(_("One of the two leads no longer exists (merged or erased already)."))
    keep, other = locked[keep.pk], locked[other.pk]
    kept_before, other_snapshot = snapshot(keep), snapshot(other)
    sources = _pick_values(keep, other)

    # Higher apps settle their rows first (campaigns: "exited_enrollments").
    kept_apart: dict[str, list[int]] = {}
    for _receiver, answer in signals.merging.send(sender=Lead, keep=keep, other=other):
        kept_apart.update(cast("dict[str, list[int]]", answer) or {})
    moved: dict[str, list[int]] = {}
    for model, fk in _relations():
        rows = model._default_manager.filter(**{fk: other})
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            rows.update(**{fk: keep})
            moved[f"{_label(model)}.{fk}"] = ids
    audit = LeadMerge.objects.create(
        kept=keep, merged_lead_id=other.pk, actor=actor, merged_at=clock.now(),
        sources=sources, kept_before=kept_before, snapshot=other_snapshot,
        moved={**moved, **kept_apart})
    other.delete()  # frees its email / external id for `keep`
    keep.updated_at = clock.now()
    refresh_derived(keep)
    keep.save(update_fields=_without_scores())
    signals.rows_moved.send(sender=Lead, lead_ids=[keep.pk])
    record_event(MERGED_EVENT, lead=keep, actor=actor, via="ui" if actor else "system",
                 properties={"merged_lead_id": other_snapshot["id"], "merge_id": audit.pk,
                             "from_merged": sorted(k for k, v in sources.items()
                                                   if v == "merged")})
    log.info("lead merged", extra={"kept": keep.pk, "merged": other_snapshot["id"],
                                   "actor": getattr(actor, "pk", None)})
    return audit


@transaction.atomic
def undo_merge(audit: LeadMerge, *, actor: User | None) -> Lead:
    """Bring the merged-away lead back under its id with its own rows; the kept lead
    gets its values from before the merge. Preconditions: not undone yet, and its email
    and external id are not taken by a third lead since. Returns the restored lead."""
    from leadflow.tracking.services import record_event

    audit = LeadMerge.objects.select_for_update().get(pk=audit.pk)
    # The caller may change the kept lead; the lead coming back may be someone else's.
    # The message names nothing of it.
    if not may_change_lead(Actor.of(actor), owner_id=audit.snapshot.get("owner_id"),
                           team_id=audit.snapshot.get("team_id")):
        raise Conflict(_("You may not undo this merge: the merged lead is outside your leads."))
    if audit.undone_at:
        raise Conflict(_("This merge was already undone."))
    keep = Lead.objects.select_for_update().get(pk=audit.kept_id)
    if Lead.objects.filter(pk=audit.merged_lead_id).exists():
        raise Conflict(_("A lead with the merged lead's id exists again."))
    _restore(keep, {k: v for k, v in audit.kept_before.items()
                    if k not in ("id", "score", "fit_score", "engagement_score",
                                 "interest_score")})
    keep.updated_at = clock.now()
    keep.save(update_fields=_without_scores())
    restored = Lead()
    _restore(restored, audit.snapshot)
    for name in ("email", "external_id"):
        value = getattr(restored, name)
        if value and Lead.objects.filter(**{name: value}).exclude(pk=restored.pk).exists():
            raise Conflict(_("Another lead now has the %(name)s %(value)r: merge them first.")
                           % {"name": name, "value": value})
    restored.save(force_insert=True)
    relations = {f"{_label(model)}.{fk}": (model, fk) for model, fk in _relations()}
    for key, ids in audit.moved.items():
        if key in relations:
            model, fk = relations[key]
            model._default_manager.filter(pk__in=ids, **{fk: keep}).update(**{fk: restored})
    signals.merge_undone.send(sender=Lead, audit=audit, keep=keep, restored=restored)
    audit.undone_at = clock.now()
    audit.save(update_fields=["undone_at"])
    signals.rows_moved.send(sender=Lead, lead_ids=[keep.pk, restored.pk])
    record_event(UNDONE_EVENT, lead=keep, actor=actor, via="ui" if actor else "system",
                 properties={"restored_lead_id": restored.pk, "merge_id": audit.pk})
    return restored
