"""`GET /api/v1/leads/{id}/score`: why a lead scores what it scores. Mounted by
server/api.py on the leads prefix, next to leads' own router (leads stands below scoring)."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Router, Schema

from leadflow.core.errors import InvalidInput
from leadflow.core.responses import answers
from leadflow.leads.services import get_visible_lead
from leadflow.scoring.explain import explain
from leadflow.scoring.models import ScoreGroup

router = Router(tags=["leads"])


class ScoreLineOut(Schema):
    kind: str
    label: str
    detail: str
    points: int
    category: str
    occurred_at: datetime
    event_id: int | None
    event_type: str
    event_label: str
    event_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None


class GroupScoreOut(Schema):
    group_id: int
    name: str
    slug: str
    is_primary: bool
    total: int
    fit: int
    engagement: int
    interest: int
    grade: str
    lines: list[ScoreLineOut]
    more: bool


class ScoreOut(Schema):
    lead_id: int
    groups: list[GroupScoreOut]


@router.get("/{lead_id}/score", response=answers(ScoreOut, 404, 422),
            summary="Why this lead scores what it scores, per score group")
def lead_score(request, lead_id: int, group: str = ""):
    lead = get_visible_lead(request.user, lead_id)
    chosen = None
    if group:
        chosen = ScoreGroup.objects.filter(slug=group).first()
        if chosen is None:
            raise InvalidInput(_("No score group %(slug)r.") % {"slug": group}, field="group")
    return explain(lead, chosen)
