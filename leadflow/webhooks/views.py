"""Webhook pages (administrators): the subscriptions, one subscription with its secret
and delivery log, and the buttons (send test, rotate, redeliver, delete)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadflow.accounts.permissions import may_manage_webhooks
from leadflow.core.errors import InvalidInput, LeadflowError, NotFound
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.webhooks import kinds, services
from leadflow.webhooks.models import Delivery

_admins_only = allowed_only(may_manage_webhooks, gettext_lazy(
    "Only administrators manage webhooks."))


def _values(request: AuthedRequest) -> dict:
    return {"name": request.POST.get("name", ""), "url": request.POST.get("url", ""),
            "events": request.POST.getlist("events"),
            "active": request.POST.get("active") == "on",
            "allow_private": request.POST.get("allow_private") == "on"}


@login_required
@_admins_only
@require_http_methods(["GET", "POST"])
def index(request: AuthedRequest) -> HttpResponse:
    error, values = None, {"name": "", "url": "", "events": [], "active": True,
                           "allow_private": False}
    if request.method == "POST":
        values = _values(request)
        try:
            sub = services.create_subscription(values, actor=request.user)
        except InvalidInput as exc:
            error = exc
        else:
            return redirect("webhooks:detail", sub.pk)
    return render(request, "webhooks/index.html", {
        "subscriptions": services.list_subscriptions(actor=request.user),
        "kinds": kinds.REGISTRY.values(), "values": values, "error": error,
    }, status=422 if error else 200)


@login_required
@_admins_only
@require_http_methods(["GET", "POST"])
def detail(request: AuthedRequest, sub_id: int) -> HttpResponse:
    try:
        sub = services.get_subscription(sub_id, actor=request.user)
    except LeadflowError as exc:
        return render_error(request, exc)
    error = None
    if request.method == "POST":
        try:
            services.update_subscription(sub, _values(request), actor=request.user)
        except InvalidInput as exc:
            error = exc
            sub.refresh_from_db()
        else:
            return redirect("webhooks:detail", sub.pk)
    page = Paginator(sub.deliveries.all(), 25).get_page(request.GET.get("page"))
    return render(request, "webhooks/detail.html", {
        "sub": sub, "page": page, "kinds": kinds.REGISTRY.values(), "error": error,
        "show_secret": request.GET.get("secret") == "1",
    }, status=422 if error else 200)


@login_required
@_admins_only
@require_POST
def action(request: AuthedRequest, sub_id: int, what: str) -> HttpResponse:
    """send test, rotate the secret, delete."""
    try:
        sub = services.get_subscription(sub_id, actor=request.user)
        if what == "test":
            services.send_test(sub, actor=request.user)
        elif what == "rotate":
            services.rotate_secret(sub, actor=request.user)
            return redirect(f"{sub.get_absolute_url()}?secret=1")
        elif what == "delete":
            services.delete_subscription(sub, actor=request.user)
            return redirect("webhooks:index")
        else:
            raise NotFound(_("No such action."))
    except LeadflowError as exc:
        return render_error(request, exc)
    return redirect("webhooks:detail", sub.pk)


@login_required
@_admins_only
@require_POST
def redeliver(request: AuthedRequest, sub_id: int, delivery_id: int) -> HttpResponse:
    try:
        sub = services.get_subscription(sub_id, actor=request.user)
        delivery = Delivery.objects.filter(pk=delivery_id, subscription=sub).first()
        if delivery is None:
            raise NotFound(_("No such delivery."))
        services.redeliver(delivery, actor=request.user)
    except LeadflowError as exc:
        return render_error(request, exc)
    return redirect("webhooks:detail", sub.pk)
