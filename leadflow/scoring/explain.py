"""Why a lead scores what it scores: per score group, the total, its three dimensions, the
fit grade, and the lines behind them (which rule or which decay gave how many points, for
which event, when), newest first. What the lead page's score card and
`GET /api/v1/leads/{id}/score` show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from leadflow.leads.models import Category, Lead
from leadflow.scoring.models import EntryKind, LeadGroupScore, ScoreEntry, ScoreGroup
from leadflow.tracking import events as event_types

# Lines shown per group; the totals always count every line.
LINES = 50


@dataclass
class Line:
    kind: str  # rule | points | inactivity | half_life (scoring.models.EntryKind)
    label: str  # the rule's name, or what gave the points ("Points given", "Inactivity"...)
    detail: str  # the reason given with points, or what the decay did
    points: int
    category: str
    category_label: str
    occurred_at: datetime  # when the points were earned: the event's time, or the decay's
    event_id: int | None = None
    event_type: str = ""
    event_label: str = ""
    event_at: datetime | None = None
    # The inactive period a penalty covers (last activity to the penalty).
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass
class GroupScore:
    group_id: int
    name: str
    slug: str
    is_primary: bool
    total: int
    fit: int
    engagement: int
    interest: int
    grade: str
    lines: list[Line] = field(default_factory=list)
    more: bool = False  # lines beyond LINES were left out


@dataclass
class Explanation:
    lead_id: int
    groups: list[GroupScore]

    @property
    def primary(self) -> GroupScore | None:
        return next((g for g in self.groups if g.is_primary), None)


def explain(lead: Lead, group: ScoreGroup | None = None, *, limit: int = LINES) -> Explanation:
    """The explanation of `lead`'s score in `group` (None: every group, primary first).
    Precondition: the caller may see the lead (leads.services.get_visible_lead)."""
    groups = [group] if group is not None else list(ScoreGroup.objects.all())
    others = {s.group_id: s for s in LeadGroupScore.objects.filter(
        lead=lead, group_id__in=[g.pk for g in groups if not g.is_primary])} if any(
        not g.is_primary for g in groups) else {}
    out = []
    for g in groups:
        entries = list(ScoreEntry.objects.filter(lead=lead, group=g)
                       .select_related("rule", "event").order_by("-occurred_at", "-id")
                       [:limit + 1])
        if g.is_primary:
            totals = (lead.score, lead.fit_score, lead.engagement_score, lead.interest_score,
                      lead.grade)
        elif (s := others.get(g.pk)) is not None:
            totals = (s.total, s.fit, s.engagement, s.interest, s.grade)
        else:
            totals = (0, 0, 0, 0, "")
        out.append(GroupScore(g.pk, g.name, g.slug, g.is_primary, *totals,
                              lines=[_line(e, g) for e in entries[:limit]],
                              more=len(entries) > limit))
    return Explanation(lead.pk, out)


def _line(entry: ScoreEntry, group: ScoreGroup) -> Line:
    line = Line(kind=entry.kind, label="", detail="", points=entry.points,
                category=entry.category, category_label=str(Category(entry.category).label),
                occurred_at=entry.occurred_at)
    if (event := entry.event) is not None:
        line.event_id, line.event_type = event.pk, event.type
        line.event_label, line.event_at = event_types.label(event.type), event.occurred_at
    if entry.kind == EntryKind.RULE:
        # A deleted rule leaves its name in the line's reason.
        line.label = entry.rule.name if entry.rule is not None else entry.reason
    elif entry.kind == EntryKind.POINTS:
        line.label, line.detail = _("Points given"), entry.reason
    elif entry.kind == EntryKind.INACTIVITY:
        line.label = _("Inactivity")
        if (days := group.inactivity_days) is not None:
            line.period_start = entry.occurred_at - timedelta(days=days)
            line.period_end = entry.occurred_at
            line.detail = _("No activity for %(days)s days") % {"days": days}
    elif entry.kind == EntryKind.HALF_LIFE:
        line.label = _("Half-life")
        if (days := group.half_life_days) is not None:
            line.period_end = entry.occurred_at
            line.detail = _("Engagement points lose half their value every %(days)s days") % {
                "days": days}
    return line
