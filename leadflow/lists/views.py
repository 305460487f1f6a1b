"""The pages of lists (/lists/: every user, for the leads they see) and of one-off sends
(/lists/sends/: who may see campaigns; admins and marketing create and start them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadflow.accounts.permissions import may_change_list
from leadflow.core import clock
from leadflow.core.errors import InvalidInput, LeadflowError
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.emails.models import EmailTemplate, SenderIdentity
from leadflow.lists import broadcasts, services
from leadflow.lists.models import Broadcast, LeadList

PER_PAGE = 50
# A pasted column or an uploaded CSV of ids and addresses; past this, use an import.
MAX_UPLOAD = 2_000_000

_viewers = allowed_only(broadcasts.may_view,
                        gettext_lazy("You may not see one-off sends."))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def index(request: AuthedRequest) -> HttpResponse:
    """The lists, each with the members the reader sees; POST creates one."""
    form: dict[str, Any] = {"name": "", "description": ""}
    status, error = 200, ""
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        try:
            created = services.create_list(request.user, **form)
        except LeadflowError as exc:
            status, error = exc.status, exc.message
        else:
            messages.success(request, _("List created."))
            return redirect("lists:detail", list_id=created.pk)
    return render(request, "lists/index.html", {
        "lists": services.lists_with_counts(request.user), "form": form, "error": error,
        "sends": broadcasts.may_view(request.user)}, status=status)


def _detail(request: AuthedRequest, lead_list: LeadList, status: int = 200,
            **extra: Any) -> HttpResponse:
    paginator = Paginator(services.members(request.user, lead_list), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "lists/detail.html", {
        "list": lead_list, "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "may_change": may_change_list(request.user, created_by_id=lead_list.created_by_id),
        **extra}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def detail(request: AuthedRequest, list_id: int) -> HttpResponse:
    """The members the reader sees; POST renames the list or changes its description."""
    try:
        lead_list = services.get_list(request.user, list_id)
        if request.method == "POST":
            services.update_list(request.user, lead_list, name=request.POST.get("name", ""),
                                 description=request.POST.get("description", ""))
            messages.success(request, _("List saved."))
            return redirect("lists:detail", list_id=lead_list.pk)
    except LeadflowError as exc:
        if exc.status == 404 or request.method != "POST":
            return render_error(request, exc)
        return _detail(request, lead_list, exc.status, edit_error=exc.message)
    return _detail(request, lead_list)


def _pasted(request: AuthedRequest) -> tuple[list[int], list[str], list[str]]:
    """The ids and addresses pasted, then those of the uploaded CSV file."""
    ids, emails, bad = services.parse_pasted(request.POST.get("leads", ""))
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size and upload.size > MAX_UPLOAD:
            raise InvalidInput(_("The file is too large: import it instead."), field="file")
        more = services.parse_pasted(upload.read().decode("utf-8-sig", errors="replace"))
        ids, emails, bad = ids + more[0], emails + more[1], bad + more[2]
    return ids, emails, bad


@login_required
@require_POST
def add(request: AuthedRequest, list_id: int) -> HttpResponse:
    """Add leads named by id or address (pasted, or a CSV file of them)."""
    try:
        lead_list = services.get_list(request.user, list_id)
        ids, emails, bad = _pasted(request)
        changes = services.add_members(request.user, lead_list, lead_ids=ids,
                                       emails=emails, invalid=bad)
    except LeadflowError as exc:
        return render_error(request, exc)
    _tell(request, changes, "added")
    return redirect("lists:detail", list_id=list_id)


@login_required
@require_POST
def remove(request: AuthedRequest, list_id: int) -> HttpResponse:
    """Take leads off the list (a member's button, or pasted ids and addresses)."""
    try:
        lead_list = services.get_list(request.user, list_id)
        ids, emails, bad = services.parse_pasted(
            " ".join([*request.POST.getlist("lead"), request.POST.get("leads", "")]))
        changes = services.remove_members(request.user, lead_list, lead_ids=ids,
                                          emails=emails, invalid=bad)
    except LeadflowError as exc:
        return render_error(request, exc)
    _tell(request, changes, "removed")
    return redirect("lists:detail", list_id=list_id)


def _tell(request: AuthedRequest, changes: services.MemberChanges, done: str) -> None:
    n = changes.count(done)
    if done == "added":
        text = ngettext("%(n)s lead added.", "%(n)s leads added.", n) % {"n": n}
        if (already := changes.count("already")):
            text += " " + ngettext("%(n)s was on the list already.",
                                   "%(n)s were on the list already.", already) % {"n": already}
    else:
        text = ngettext("%(n)s lead removed.", "%(n)s leads removed.", n) % {"n": n}
    missing = [r.value for r in changes.results if r.status in ("not_found", "invalid")]
    if missing:
        text += " " + ngettext(
            "%(n)s not found among your leads: %(values)s",
            "%(n)s not found among your leads: %(values)s", len(missing)) % {
            "n": len(missing), "values": ", ".join(missing[:20])
            + (" …" if len(missing) > 20 else "")}
    (messages.warning if missing else messages.success)(request, text)


@login_required
@require_POST
def delete(request: AuthedRequest, list_id: int) -> HttpResponse:
    try:
        services.delete_list(request.user, services.get_list(request.user, list_id))
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("List deleted."))
    return redirect("lists:index")


# --- one-off sends --------------------------------------------------------------------

@_viewers
@require_safe
def sends(request: AuthedRequest) -> HttpResponse:
    return render(request, "lists/sends.html", {
        "sends": broadcasts.visible_broadcasts(request.user)[:200],
        "may_change": broadcasts.may_change(request.user)})


def _local(raw: str, field: str) -> datetime | None:
    """A `datetime-local` value, in the reader's time zone."""
    if not raw.strip():
        return None
    try:
        value = parse_datetime(raw.strip())
    except ValueError:
        value = None
    if value is None:
        raise InvalidInput(_("Give a date and time."), field=field)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _posted(request: AuthedRequest) -> dict[str, Any]:
    post = request.POST
    return {"name": post.get("name", ""), "template": post.get("template") or None,
            "list": post.get("list") or None, "sender": post.get("sender") or None,
            "scheduled_at": _local(post.get("scheduled_at", ""), "scheduled_at"),
            "test_mode": post.get("test_mode") == "on",
            "test_list": post.get("test_list") or None}


def _form(request: AuthedRequest, broadcast: Broadcast | None, status: int = 200,
          **extra: Any) -> HttpResponse:
    return render(request, "lists/send_edit.html", {
        "send": broadcast, "templates": EmailTemplate.objects.filter(marketing=True),
        "lists": LeadList.objects.all(), "senders": SenderIdentity.objects.all(),
        "form": extra.pop("form", None) or _initial(broadcast), **extra}, status=status)


def _initial(broadcast: Broadcast | None) -> dict[str, Any]:
    if broadcast is None:
        return {"test_mode": False}
    local = timezone.localtime(broadcast.scheduled_at) if broadcast.scheduled_at else None
    return {"name": broadcast.name, "template": str(broadcast.template_id),
            "list": str(broadcast.list_id), "sender": str(broadcast.sender_id or ""),
            "scheduled_at": local.strftime("%Y-%m-%dT%H:%M") if local else "",
            "test_mode": broadcast.test_mode, "test_list": str(broadcast.test_list_id or "")}


@_viewers
@require_http_methods(["GET", "HEAD", "POST"])
def send_edit(request: AuthedRequest, send_id: int | None = None) -> HttpResponse:
    """A draft's form (new, or a send not started yet); POST saves it as a draft."""
    try:
        found = broadcasts.get_broadcast(request.user, send_id) if send_id else None
        if request.method != "POST":
            return _form(request, found)
        data = _posted(request)
        saved = (broadcasts.update(request.user, found, data) if found
                 else broadcasts.create(request.user, data))
    except LeadflowError as exc:
        if request.method != "POST" or exc.status == 404:
            return render_error(request, exc)
        form: dict[str, Any] = {k: request.POST.get(k, "") for k in
                ("name", "template", "list", "sender", "scheduled_at", "test_list")}
        form["test_mode"] = request.POST.get("test_mode") == "on"
        return _form(request, found, exc.status, form=form, error=exc.message,
                     error_field=exc.field or "")
    messages.success(request, _("Saved as a draft: start it to send."))
    return redirect("lists:send", send_id=saved.pk)


@_viewers
@require_safe
def send_detail(request: AuthedRequest, send_id: int) -> HttpResponse:
    try:
        found = broadcasts.get_broadcast(request.user, send_id)
    except LeadflowError as exc:
        return render_error(request, exc)
    return render(request, "lists/send.html", {
        "send": found, "report": broadcasts.report(found),
        "may_change": broadcasts.may_change(request.user)})


@_viewers
@require_POST
def send_start(request: AuthedRequest, send_id: int) -> HttpResponse:
    """Start a draft: now, or at the time given (the form's `at`)."""
    try:
        found = broadcasts.get_broadcast(request.user, send_id)
        at = _local(request.POST.get("at", ""), "at")
        started = broadcasts.start(request.user, found, at=at)
    except LeadflowError as exc:
        return render_error(request, exc)
    if at is None and started.scheduled_at and started.scheduled_at <= clock.now():
        messages.success(request, _("Sending: the messages are being queued."))
    else:
        messages.success(request, _("Scheduled."))
    return redirect("lists:send", send_id=send_id)


@_viewers
@require_POST
def send_cancel(request: AuthedRequest, send_id: int) -> HttpResponse:
    try:
        broadcasts.cancel(request.user, broadcasts.get_broadcast(request.user, send_id))
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Cancelled: nothing was sent."))
    return redirect("lists:send", send_id=send_id)
