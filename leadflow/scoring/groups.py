"""What both ways of scoring (incremental, re-score) share: a group's total and grade, the
calendar period a rule counts in, and the set-based write of group scores."""

# ruff: noqa: S608 (the SQL is built from constants and from conditions.event_sql, whose
# values all travel as parameters)
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from django.db import connection

from leadflow.core.sqlarrays import int_array, text_array
from leadflow.leads.models import Category
from leadflow.scoring.models import Per, ScoreGroup, ScoreRule

DIMENSIONS = (Category.FIT, Category.ENGAGEMENT, Category.INTEREST)


def weights(group: ScoreGroup) -> tuple[int, int, int]:
    """(fit, engagement, interest) weights; an unset one counts 1."""
    return tuple(1 if w is None else w for w in (  # type: ignore[return-value]
        group.weight_fit, group.weight_engagement, group.weight_interest))


def total(group: ScoreGroup, fit: int, engagement: int, interest: int) -> int:
    wf, we, wi = weights(group)
    return fit * wf + engagement * we + interest * wi


def grade(group: ScoreGroup, fit: int) -> str:
    if fit >= group.grade_a_min:
        return "A"
    if fit >= group.grade_b_min:
        return "B"
    return "C" if fit >= group.grade_c_min else "D"


def formula(group: ScoreGroup) -> tuple[int, int, int, int, int, int]:
    """What the lead write needs to total the primary group in SQL (core.pipeline.Batch)."""
    return (*weights(group), group.grade_a_min, group.grade_b_min, group.grade_c_min)


def period_key(rule: ScoreRule, at: datetime) -> date | None:
    """The calendar period (UTC, in event time) an event counts in for `rule`: the first
    day of its day, ISO week (Monday) or month; None when the rule counts over all time."""
    if rule.per == Per.EVER:
        return None
    day = at.astimezone(UTC).date()
    if rule.per == Per.DAY:
        return day
    if rule.per == Per.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_start(rule: ScoreRule, at: datetime) -> datetime | None:
    key = period_key(rule, at)
    return None if key is None else datetime(key.year, key.month, key.day, tzinfo=UTC)


def in_window(rule: ScoreRule, at: datetime) -> bool:
    return ((rule.valid_from is None or at >= rule.valid_from)
            and (rule.valid_until is None or at <= rule.valid_until))


def upsert_group_scores(rows: list[tuple[int, int, int, int, int, int, str]]) -> None:
    """Write (lead, group, total, fit, engagement, interest, grade) rows of
    LeadGroupScore, inserted or replaced: one statement."""
    if not rows:
        return
    set_clause = ("ON CONFLICT (lead_id, group_id) DO UPDATE SET total = excluded.total, "
                  "fit = excluded.fit, engagement = excluded.engagement, "
                  "interest = excluded.interest, grade = excluded.grade")
    columns = "(lead_id, group_id, total, fit, engagement, interest, grade)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = list(zip(*rows, strict=True))
            cursor.execute(
                f"INSERT INTO scoring_leadgroupscore {columns} SELECT * FROM unnest("
                "%s::bigint[], %s::bigint[], %s::int[], %s::int[], %s::int[], %s::int[], "
                f"%s::text[]) {set_clause}",
                [*(int_array(c) for c in cols[:6]), text_array(cols[6])])
        else:
            cursor.execute(
                f"INSERT INTO scoring_leadgroupscore {columns} SELECT "
                + ", ".join(f"json_extract(value, '$[{i}]')" for i in range(7))
                + f" FROM json_each(%s) WHERE true {set_clause}", [json.dumps(rows)])
