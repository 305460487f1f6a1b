"""One way to claim background work: rows of a table, leased to one worker at a time.

A kind of work (an email to send, a campaign enrollment to advance, an import to run) is a
row of its own table carrying the `WorkItem` columns and a due time. A worker `claim()`s a
batch of due rows: in one transaction (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL;
SQLite's write lock serialises claimers) their due time moves forward by the lease, their
attempt count goes up and a fresh token names the claim. The due time *is* the lease:

* a worker that dies holds nothing: when the lease runs out the row is due again and the
  next claim takes it (crash recovery needs no sweeper);
* a worker that is still busy `renew()`s its lease (`each()` does it as it goes);
* `done()`, `retry()` and `fail()` only touch rows whose token is still the claim's, so a
  worker that lost its lease (too slow, or presumed dead) cannot overwrite the work of the
  worker that took over.

The attempt is counted when the row is claimed, not when it fails, so a row that crashes
its worker every time (a poison message) still reaches its last attempt; when it is due
again after that, `claim()` hands it to the kind's `exhausted` hook (its final state and
failure path) instead of to a worker.

django.tasks / RQ only wake workers up; `core.periodic.tick` claims from every kind on
each tick, so work is never lost when a wake-up is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import connection, models, transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from leadflow.core import clock

# Retry n waits BACKOFF_BASE * 2**(n-1), at most BACKOFF_MAX.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


class WorkItem(models.Model):
    """The columns every kind of background work carries. A subclass names its due-time
    column (`work_due_field`) and the column its last error goes to (`work_error_field`),
    so existing columns keep their names."""

    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The token of the claim holding the row; empty when nobody holds it.
    claimed_by = models.CharField(_("claimed by"), max_length=64, blank=True, default="")

    work_due_field: ClassVar[str] = "due_at"
    work_error_field: ClassVar[str] = "last_error"
    max_attempts: ClassVar[int] = 5

    class Meta:
        abstract = True


@dataclass
class Claim:
    """Rows of one table claimed by one worker until `expires` (renewed by `renew`)."""

    model: type[WorkItem]
    ids: list[int]
    token: str
    lease: timedelta
    expires: datetime
    attempts: dict[int, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.ids)

    def held(self) -> QuerySet[Any]:
        return self.model._default_manager.filter(pk__among=self.ids, claimed_by=self.token)


def backoff(attempt: int) -> timedelta:
    """How long to wait before attempt `attempt + 1` after attempt `attempt` failed."""
    return min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_MAX)


def claim(queryset: QuerySet[Any], *, limit: int, lease: timedelta, worker: str = "",
          exhausted: Callable[[Claim], Any] | None = None, **also: Any) -> Claim:
    """Claim up to `limit` rows of `queryset` that are due now (oldest due first).

    `queryset` says which rows are work at all (e.g. status queued); `also` are column
    values written on the claimed rows in the same UPDATE (e.g. status=sending).
    Rows whose last attempt never ended (the worker died) are not handed out: they are
    claimed apart and passed to `exhausted`, which puts them in the kind's final state
    (e.g. with `retry`, which finds them at their last attempt); without a hook they are
    only released, never due again.
    """
    model = queryset.model
    due = model.work_due_field
    now = clock.now()
    token = f"{worker[:40]}:{secrets.token_hex(8)}" if worker else secrets.token_hex(12)
    with transaction.atomic():
        rows = (queryset.filter(**{f"{due}__lte": now}).order_by(due, "pk")
                .values_list("pk", "attempts")[:limit])
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        found = list(rows)
        ids = [pk for pk, n in found if n < model.max_attempts]
        spent = {pk: n for pk, n in found if n >= model.max_attempts}
        if ids:
            model._default_manager.filter(pk__among=ids).update(
                **{due: now + lease}, attempts=F("attempts") + 1, claimed_by=token, **also)
        # The rows are locked until this transaction ends: their counts are ours to know.
        attempts = {pk: n + 1 for pk, n in found if n < model.max_attempts}
        if spent:
            model._default_manager.filter(pk__among=list(spent)).update(
                **{due: now + lease}, claimed_by=token)
    if spent:
        gone = Claim(model, list(spent), token, lease, now + lease, spent)
        if exhausted is not None:
            exhausted(gone)
        done(gone, gone.ids)  # whatever the hook left held is released
        if not ids:  # callers stop at an empty claim: look past the rows given up
            return claim(queryset, limit=limit, lease=lease, worker=worker,
                         exhausted=exhausted, **also)
    return Claim(model, ids, token, lease, now + lease, attempts)


def renew(claim: Claim) -> set[int]:
    """Push the lease of the rows still held forward; returns the ids no longer held."""
    if not claim.ids:
        return set()
    expires = clock.now() + claim.lease
    held = set(claim.held().values_list("pk", flat=True))
    if held:
        claim.model._default_manager.filter(pk__among=held, claimed_by=claim.token).update(
            **{claim.model.work_due_field: expires})
    claim.expires = expires
    lost = set(claim.ids) - held
    claim.ids = [pk for pk in claim.ids if pk in held]
    return lost


def keep_alive(claim: Claim) -> bool:
    """Renew the lease once a third of it is spent (cheap to call often); False when the
    claim holds no row any more (a slow worker whose rows were taken over)."""
    if clock.now() >= claim.expires - claim.lease * 2 / 3:
        renew(claim)
    return bool(claim.ids)


def each(claim: Claim) -> Iterator[int]:
    """The claimed ids one by one, renewing the lease as it goes and skipping rows the
    claim no longer holds."""
    for pk in list(claim.ids):
        keep_alive(claim)
        if pk in claim.ids:
            yield pk


def done(claim: Claim, ids: int | Iterable[int], *, due: datetime | None = None,
         **values: Any) -> int:
    """Release rows whose work is finished (or, with `due`, is next due then), writing
    `values`; returns how many rows the claim still held."""
    ids = [ids] if isinstance(ids, int) else list(ids)
    # The token alone names the claim's rows (a second id array misleads the planner).
    return claim.model._default_manager.filter(pk__among=ids, claimed_by=claim.token).update(
        **{claim.model.work_due_field: due}, claimed_by="", **values)


def retry(claim: Claim, pk: int, error: str, *, final: dict[str, Any],
          again: dict[str, Any] | None = None, permanent: bool = False) -> bool | None:
    """Record a failed attempt: due again after a backoff, or, when it was the last one
    (or the error is `permanent`: no retry can help), released with the `final` values.
    Returns True when final, False when it will be retried, None when the claim no
    longer held the row."""
    attempt = claim.attempts.get(pk, claim.model.max_attempts)
    values: dict[str, Any] = {claim.model.work_error_field: error[:2000]}
    if permanent or attempt >= claim.model.max_attempts:
        return bool(done(claim, pk, **values, **final)) or None
    due = clock.now() + backoff(attempt)
    return False if done(claim, pk, due=due, **values, **(again or {})) else None


def reset(queryset: QuerySet[Any], **values: Any) -> int:
    """Make finally failed rows due now with a fresh attempt count (a person's retry)."""
    model = queryset.model
    return queryset.filter(claimed_by="").update(
        **{model.work_due_field: clock.now(), model.work_error_field: ""}, attempts=0,
        **values)
