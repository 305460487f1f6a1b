from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# The chart's drawing box (SVG user units); bars share the width, the tallest is full height.
CHART_WIDTH, CHART_HEIGHT, CHART_GAP = 600, 160, 2


def home(request: HttpRequest) -> HttpResponse:
    """What a person needs first: new leads today and this week, the hot leads waiting,
    and leads per day over the last month, in their time zone and scope."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    from leadflow.accounts.timezones import zone_of
    from leadflow.analytics.home import home as home_figures

    figures = home_figures(request.user, zone_of(request.user))
    return render(request, "server/home.html", {
        "home": figures, "bars": _bars(figures.days), "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
    })


def _bars(days) -> list[dict]:
    """Each day's bar in the chart's box, and whether its date is labelled below it
    (every seventh day from the last, so today always is)."""
    tallest = max([d.leads for d in days] + [1])
    step = CHART_WIDTH / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        height = round(day.leads * CHART_HEIGHT / tallest, 1)
        bars.append({"day": day.day, "leads": day.leads, "x": round(i * step, 1),
                     "width": round(step - CHART_GAP, 1), "height": height,
                     "y": round(CHART_HEIGHT - height, 1), "center": round(i * step + step / 2, 1),
                     "labelled": (len(days) - 1 - i) % 7 == 0})
    return bars


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
