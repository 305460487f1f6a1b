from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _


def home(request: HttpRequest) -> HttpResponse:
    return redirect("leads:list" if request.user.is_authenticated else "login")


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: answers 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict | None = None) -> HttpResponse:
    """django-axes' answer once an account or an address has too many failed sign-ins:
    the sign-in page saying so (JSON for clients that ask for it), status 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("Too many failed sign-ins for this account or from your address. "
                "Try again in %(minutes)d minutes, or ask an administrator to unlock it.") % {
        "minutes": minutes}
    if "application/json" in request.headers.get("Accept", "") or \
            request.content_type == "application/json":
        return JsonResponse({"message": message, "field": None}, status=429)
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username")})
    return render(request, "core/login.html", {"form": form, "locked_out": message},
                  status=429)
