"""The rep's forms on the lead page (the page is leads', which stands below sales: its
cards are rendered by `{% sales_cards lead %}`, templatetags/sales_tags.py) and the "My
tasks" page. Each view parses, finds the lead through its reader's scope (404 outside),
calls one service and goes back to the lead."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from leadflow.core import clock
from leadflow.core.errors import InvalidInput
from leadflow.core.http import AuthedRequest
from leadflow.core.params import valid_id
from leadflow.leads.lead_actions import act_on_lead, posted
from leadflow.leads.models import Lead
from leadflow.sales import followups, services


def _local(raw: str, field: str) -> datetime | None:
    """A `datetime-local` value, in the reader's time zone."""
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(_("Give a date and time."), field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _number(raw: str, field: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(_("Give a whole number."), field=field) from None


@login_required
@require_POST
def log_activity(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def log(lead: Lead) -> str:
        services.log_activity(
            lead, posted(request, "kind"), actor=request.user, text=posted(request, "text"),
            occurred_at=_local(posted(request, "occurred_at"), "occurred_at"),
            duration=_number(posted(request, "duration"), "duration"),
            outcome=posted(request, "outcome") if posted(request, "kind") == "call" else "",
            subject=posted(request, "subject") if posted(request, "kind") == "email" else "")
        return _("Logged on the timeline.")
    return act_on_lead(request, lead_id, log)


@login_required
@require_POST
def add_task(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def add(lead: Lead) -> str:
        due = _local(posted(request, "due_at"), "due_at")
        if due is None:
            raise InvalidInput(_("Give a date and time."), field="due_at")
        assignee = None
        if raw := posted(request, "assignee"):
            pk = _number(raw, "assignee") or 0
            assignee = (get_user_model().objects.filter(pk=pk, is_active=True).first()
                        if valid_id(pk) else None)
            if assignee is None:
                raise InvalidInput(_("No such person."), field="assignee")
        followups.create_task(lead, actor=request.user, title=posted(request, "title"),
                              due_at=due, assignee=assignee,
                              remind_before=_number(posted(request, "remind_before"),
                                                    "remind_before") or 0)
        return _("Task added.")
    return act_on_lead(request, lead_id, add)


@login_required
@require_POST
def toggle_task(request: AuthedRequest, lead_id: int, task_id: int) -> HttpResponse:
    def toggle(lead: Lead) -> str:
        task = followups.get_task(request.user, task_id, lead)
        done = request.POST.get("done") == "1"
        followups.update_task(task, actor=request.user, done=done)
        return _("Task done.") if done else _("Task open again.")
    response = act_on_lead(request, lead_id, toggle)
    if request.POST.get("next") == "mine" and response.status_code == 302:
        return redirect("sales:my_tasks")
    return response


@login_required
@require_POST
def open_opportunity(request: AuthedRequest, lead_id: int) -> HttpResponse:
    def add(lead: Lead) -> str:
        raw_close = posted(request, "expected_close")
        try:
            close = datetime.strptime(raw_close, "%Y-%m-%d").date() if raw_close else None
        except ValueError:
            raise InvalidInput(_("Give a date."), field="expected_close") from None
        services.open_opportunity(
            lead, actor=request.user, name=posted(request, "name"),
            value=posted(request, "value").replace(",", ".") or "0",
            currency=posted(request, "currency"), product=posted(request, "product"),
            expected_close=close)
        return _("Opportunity opened.")
    return act_on_lead(request, lead_id, add)


@login_required
@require_POST
def close_opportunity(request: AuthedRequest, lead_id: int,
                      opportunity_id: int) -> HttpResponse:
    def close(lead: Lead) -> str:
        opp = services.get_opportunity(lead, opportunity_id)
        stage = posted(request, "stage")
        services.close_opportunity(opp, stage, actor=request.user,
                                   reason=posted(request, "reason"))
        return _("Opportunity won.") if stage == "won" else _("Opportunity lost.")
    return act_on_lead(request, lead_id, close)


@login_required
@require_safe
def my_tasks(request: AuthedRequest) -> HttpResponse:
    return render(request, "sales/my_tasks.html", {
        "tasks": list(followups.my_tasks(request.user)[:500]), "now": clock.now()})
