from ninja import Router, Schema

from leadflow.analytics import services
from leadflow.core.responses import answers

router = Router(tags=["reports"])


class StageCount(Schema):
    stage: str
    label: str
    leads: int


class SourceRowOut(Schema):
    source: str
    leads: int
    won: int
    lost: int
    conversion_rate: float


class SummaryOut(Schema):
    total: int
    won: int
    lost: int
    conversion_rate: float
    by_stage: list[StageCount]
    by_source: list[SourceRowOut]


@router.get("/summary", response=answers(SummaryOut),
            summary="Leads per stage and source, conversion")
def summary(request):
    s = services.summary(request.user)
    return SummaryOut(
        total=s.total, won=s.won, lost=s.lost, conversion_rate=s.conversion_rate,
        by_stage=[StageCount(stage=a, label=b, leads=c) for a, b, c in s.by_stage],
        by_source=[SourceRowOut(source=r.source, leads=r.leads, won=r.won, lost=r.lost,
                                conversion_rate=r.conversion_rate) for r in s.by_source])
