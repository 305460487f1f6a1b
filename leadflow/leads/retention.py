"""Retention: leads with no activity for LEADFLOW_RETENTION_DAYS are due for erasure.

A lead's last activity is its last touch (the latest event from the person: a visit, a
form, an email opened; not what we did to them), or its creation if it never had one.
Customers (won) and open deals (opportunity) are not prospects and are never due: their
data is kept for the contract, outside this policy. LEADFLOW_RETENTION_MODE says what
happens to the leads due: "confirm" (an admin erases them from the retention page or the
API), "auto" (the worker erases them: `erase_due_automatically`, a periodic job wired in
server.apps), or "off" (listed, never erased). Erasure goes through privacy.erase_leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db.models import DateTimeField, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import may_manage_retention
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput
from leadflow.leads import privacy
from leadflow.leads.models import Lead
from leadflow.leads.stages import Stage

if TYPE_CHECKING:
    from leadflow.accounts.models import User

EXEMPT_STAGES = (Stage.CUSTOMER, Stage.OPPORTUNITY)
# The automatic job looks at most once an hour (a day is the policy's unit) and erases at
# most this many leads per look, so that one tick stays short; more wait for the next.
AUTO_EVERY = timedelta(hours=1)
AUTO_BATCH = 2000
AUTO_KEY = "leadflow:retention:looked"


@dataclass(frozen=True)
class Policy:
    days: int
    mode: str
    cutoff: datetime  # leads whose last activity is older are due

    @classmethod
    def current(cls) -> Policy:
        days = settings.LEADFLOW_RETENTION_DAYS
        return cls(days, settings.LEADFLOW_RETENTION_MODE, clock.now() - timedelta(days=days))


@dataclass
class DueList:
    policy: Policy
    count: int
    leads: list[Lead]


def due_leads(cutoff: datetime) -> QuerySet[Lead]:
    """The leads not erased, not customers nor open deals, idle since before `cutoff`,
    oldest activity first, annotated with `last_activity`."""
    # Greatest of both: an imported lead may carry a last touch older than its creation.
    last = Greatest(Coalesce("last_touch_at", "created_at"), "created_at",
                    output_field=DateTimeField())
    return (Lead.objects.filter(erased_at__isnull=True).exclude(stage__in=EXEMPT_STAGES)
            .annotate(last_activity=last).filter(last_activity__lt=cutoff)
            .order_by("last_activity", "pk"))


def check_may_manage(user: User) -> None:
    if not may_manage_retention(user):
        raise Forbidden(_("Only administrators see and erase the leads due under the "
                        "retention policy."))


def list_due(user: User, *, limit: int = 100, offset: int = 0) -> DueList:
    """The policy and the leads it makes due now (a page of them). Admins only."""
    check_may_manage(user)
    policy = Policy.current()
    due = due_leads(policy.cutoff)
    return DueList(policy, due.count(), list(due[offset:offset + limit]))


def erase_due(user: User, *, cutoff: datetime) -> int:
    """Erase the leads that were due at `cutoff`, the limit the admin saw listed (those
    active since are no longer due, and so kept). Admins only; refused when retention is
    off, or for a cutoff later than the policy's (that would erase leads not yet due).
    Returns how many were erased."""
    check_may_manage(user)
    policy = Policy.current()
    if policy.mode == "off":
        raise Conflict(_("Retention is off (LEADFLOW_RETENTION_MODE=off): nothing is erased."))
    if cutoff.tzinfo is None:
        raise InvalidInput(_("cutoff needs a time zone (e.g. 2026-01-31T00:00:00Z)."),
                           field="cutoff")
    try:  # PostgreSQL refuses offsets beyond ±15:59, which Python allows
        cutoff = cutoff.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(_("cutoff is out of range."), field="cutoff") from None
    if cutoff > policy.cutoff:
        raise InvalidInput(_("cutoff must be at most %(cutoff)s: leads active in the last "
                             "%(days)s days are not due.")
                           % {"cutoff": policy.cutoff.isoformat(), "days": policy.days},
                           field="cutoff")
    ids = list(due_leads(cutoff).values_list("pk", flat=True))
    return privacy.erase_leads(ids, actor=user)


def erase_due_automatically(worker: str = "") -> int:
    """Periodic job: in "auto" mode, erase the leads due (as Leadflow, no user)."""
    policy = Policy.current()
    if policy.mode != "auto" or not cache.add(AUTO_KEY, 1, AUTO_EVERY.total_seconds()):
        return 0
    ids = list(due_leads(policy.cutoff).values_list("pk", flat=True)[:AUTO_BATCH])
    if len(ids) == AUTO_BATCH:
        cache.delete(AUTO_KEY)  # more are due: look again on the next tick
    return privacy.erase_leads(ids, actor=None)
