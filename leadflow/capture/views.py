from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_exempt

from leadflow.capture import services
from leadflow.capture.models import Form
from leadflow.core.errors import InvalidInput


@xframe_options_exempt  # forms are meant to be embedded in the customer's site
def hosted_form(request: HttpRequest, slug: str) -> HttpResponse:
    form = get_object_or_404(Form, slug=slug, active=True)
    context = {"form": form, "values": {}, "utm": {k: request.GET.get(k, "")
                                                   for k in services.UTM}}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:500]
                  for k in (*services.FIELDS, *services.UTM, services.HONEYPOT)}
        submission = services.Submission(
            values=values, consent=request.POST.get("consent") == "yes",
            ip=request.META.get("REMOTE_ADDR"),
            # Proof of consent, stored as given (minus NULs, which PostgreSQL refuses).
            page_url=(request.POST.get("page_url", "").replace("\x00", "")[:500]
                      or request.build_absolute_uri()))
        try:
            services.submit_form(form, submission)
        except InvalidInput as exc:
            context.update(values=values, error=exc.message, field=exc.field)
            return render(request, "capture/form.html", context, status=exc.status)
        return render(request, "capture/thanks.html", context)
    return render(request, "capture/form.html", context)
