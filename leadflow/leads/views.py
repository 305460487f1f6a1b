from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leadflow.leads import services


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    leads = services.search_leads(request.user)[:50]
    return render(request, "leads/list.html", {"leads": leads})


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = services.get_visible_lead(request.user, lead_id)
    return render(request, "leads/detail.html", {"lead": lead})
