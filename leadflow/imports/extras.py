"""What an import row brings beyond lead fields, written set-based per batch of rows: the
creation date of the leads it creates, and notes on the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from leadflow.imports.mapping import MappedRow
from leadflow.leads.bulk import CREATED, RowResult
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User


def known_notes(results: list[RowResult], rows: list[MappedRow]
                ) -> set[tuple[int | None, str]]:
    """The notes the batch's known leads already have (one query): re-importing a file
    adds no note twice."""
    ids = [r.lead.pk for r, row in zip(results, rows, strict=True)
           if row.note and r.lead is not None and r.lead.pk is not None and r.status != CREATED]
    if not ids:
        return set()
    return {(lead_id, (properties or {}).get("text", ""))
            for lead_id, properties in Event.objects.filter(
                type=EventType.NOTE, lead_id__in=ids).values_list("lead_id", "properties")}


def set_created_at(dated: list[tuple[Lead, datetime]]) -> None:
    """The file's creation dates, on the leads this import created (never on known leads:
    when a lead came is not the import's to rewrite). One query per batch. The last touch
    stays at the import: retention counts the lead as active since it came in."""
    for lead, moment in dated:
        lead.created_at = lead.first_touch_at = moment
    if dated:
        Lead.objects.bulk_update([lead for lead, _ in dated],
                                 ["created_at", "first_touch_at"], batch_size=1000)


def record_notes(notes: list[tuple[Lead, str]], *, actor: User | None) -> None:
    from leadflow.tracking.services import NewEvent, record_events

    if notes:
        record_events([NewEvent(type=EventType.NOTE, lead_id=lead.pk,
                                properties={"text": text}) for lead, text in notes],
                      via=Event.Via.IMPORT, actor=actor)
