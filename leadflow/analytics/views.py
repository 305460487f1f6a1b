from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadflow.analytics import services


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/reports.html", {"summary": services.summary(request.user)})
