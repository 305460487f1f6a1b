"""The home page's figures: new leads today and this week, the hot leads waiting for
sales, and leads created per day, for the leads a user may see, in their time zone.

A constant number of queries whatever the number of leads or days: one grouped count per
local day (which gives today, this week and the chart), the hot leads, and their count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from django.db.models import Count
from django.db.models.functions import TruncDate

from leadflow.core import clock
from leadflow.leads.stages import Stage

if TYPE_CHECKING:
    from leadflow.accounts.models import User
    from leadflow.leads.models import Lead

CHART_DAYS = 30
HOT_SHOWN = 8
# Hot leads waiting: qualified by marketing (MQL) or accepted by sales (SAL), not yet
# worked further (SQL and later stages are in a sales process; closed ones are done).
HOT_STAGES = (Stage.MQL, Stage.SAL)


@dataclass
class Day:
    day: date
    leads: int


@dataclass
class Home:
    today: int
    this_week: int
    days: list[Day]
    hot: list[Lead]
    hot_total: int

    @property
    def chart_total(self) -> int:
        return sum(d.leads for d in self.days)

    @property
    def busiest(self) -> int:
        return max([d.leads for d in self.days] + [0])


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def home(user: User, zone: tzinfo, *, days: int = CHART_DAYS) -> Home:
    """The figures for `user`'s home page, days counted from midnight to midnight in
    `zone`; a week starts on Monday."""
    from leadflow.leads.services import visible_leads

    leads = visible_leads(user)
    today = clock.now().astimezone(zone).date()
    first = min(today - timedelta(days=days - 1), today - timedelta(days=today.weekday()))
    per_day = dict(
        leads.filter(created_at__gte=_midnight(first, zone))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values_list("day").annotate(n=Count("id")).order_by())
    week_start = today - timedelta(days=today.weekday())
    chart = [Day(d, per_day.get(d, 0))
             for d in (today - timedelta(days=n) for n in range(days - 1, -1, -1))]
    waiting = leads.filter(stage__in=HOT_STAGES, erased_at__isnull=True)
    return Home(
        today=per_day.get(today, 0),
        this_week=sum(n for d, n in per_day.items() if week_start <= d <= today),
        days=chart,
        hot=list(waiting.select_related("owner").order_by("-score", "-id")[:HOT_SHOWN]),
        hot_total=waiting.count(),
    )
