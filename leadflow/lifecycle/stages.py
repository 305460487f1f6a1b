"""The stage definitions, read everywhere through `definitions()`: at most one query per
process every MAX_AGE seconds. A save or delete drops the cache of the process that made
it at once; the other processes (workers, other web processes) see it within MAX_AGE."""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_save

from leadflow.lifecycle.defaults import stage_rows
from leadflow.lifecycle.models import QualificationReason, StageDefinition

MAX_AGE = 30.0
_cache: dict[str, StageDefinition] | None = None
_read_at = 0.0


def definitions() -> dict[str, StageDefinition]:
    """slug -> definition, in position order."""
    global _cache, _read_at
    if _cache is None or time.monotonic() - _read_at > MAX_AGE:
        rows = {d.slug: d for d in StageDefinition.objects.order_by("position", "id")}
        if not rows:  # a flushed test database: the defaults (a save clears the cache)
            rows = {row["slug"]: StageDefinition(**row) for row in stage_rows()}
        _cache, _read_at = rows, time.monotonic()
    return _cache


def clear_cache(*_args: object, **_kwargs: object) -> None:
    global _cache
    _cache = None


post_save.connect(clear_cache, sender=StageDefinition, dispatch_uid="lifecycle_stage_cache")
post_delete.connect(clear_cache, sender=StageDefinition, dispatch_uid="lifecycle_stage_cache_d")


def get(slug: str) -> StageDefinition | None:
    return definitions().get(slug)


def name(slug: str) -> str:
    """The stage's name in the reader's language (the slug for an unknown stage)."""
    d = definitions().get(slug)
    return d.name if d else slug


def closed() -> frozenset[str]:
    return frozenset(s for s, d in definitions().items() if d.is_closed)


def funnel_rank(slug: str) -> int:
    """Position along the funnel; -1 for detours and unknown stages."""
    d = definitions().get(slug)
    return d.position if d and d.kind == StageDefinition.Kind.FUNNEL else -1


def handoff_rank() -> int | None:
    """The funnel position of the first hand-off stage (None: no hand-off)."""
    ranks = [d.position for d in definitions().values()
             if d.is_handoff and d.kind == StageDefinition.Kind.FUNNEL]
    return min(ranks) if ranks else None


def handoff_stage() -> StageDefinition | None:
    rank = handoff_rank()
    return next((d for d in definitions().values() if d.position == rank
                 and d.is_handoff), None)


def reaches_handoff(slug: str) -> bool:
    """Whether a lead in `slug` has reached the hand-off or passed it (a funnel stage at or
    after it, closed outcomes included: a lead imported as a customer was never handed
    off, so closed stages are left out)."""
    rank = handoff_rank()
    d = definitions().get(slug)
    return (rank is not None and d is not None and d.kind == StageDefinition.Kind.FUNNEL
            and not d.is_closed and d.position >= rank)


def reasons() -> list[QualificationReason]:
    return list(QualificationReason.objects.filter(active=True))
