"""The reports page: volume and conversion of the leads the user may see."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from leadflow.analytics import services
from leadflow.core.http import AuthedRequest


def _percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0


@login_required
@require_safe
def reports(request: AuthedRequest) -> HttpResponse:
    summary = services.summary(request.user)
    most_in_stage = max([n for _, _, n in summary.by_stage] + [1])
    most_from_source = max([row.leads for row in summary.by_source] + [1])
    stages = [{"value": value, "label": label, "leads": n,
               "share": _percent(n, summary.total), "width": _percent(n, most_in_stage)}
              for value, label, n in summary.by_stage]
    sources = [{"source": row.source, "leads": row.leads, "won": row.won, "lost": row.lost,
                "conversion": round(row.conversion_rate * 100, 1),
                "width": _percent(row.leads, most_from_source)}
               for row in summary.by_source]
    return render(request, "analytics/reports.html", {
        "summary": summary, "stages": stages, "sources": sources,
        "conversion": round(summary.conversion_rate * 100, 1),
    })
