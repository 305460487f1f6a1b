"""The sender identities pages (list, add, edit, delete) and each one's DNS check page:
the records its domain needs and the last look at DNS (taken by a worker, never here)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from leadflow.core.errors import LeadflowError, NotFound
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.core.params import valid_id
from leadflow.emails import dkim, dns_check, senders
from leadflow.emails.models import SenderIdentity

_viewers_only = allowed_only(senders.may_view, gettext_lazy(
    "Only admins and marketing see the sender identities."))
_editors_only = allowed_only(senders.may_edit, gettext_lazy(
    "Only admins and marketing edit sender identities."))


def _find(sender_id: int) -> SenderIdentity | None:
    return SenderIdentity.objects.filter(pk=sender_id).first() if valid_id(sender_id) else None


@_viewers_only
@require_http_methods(["GET", "HEAD"])
def sender_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "emails/senders.html", {
        "senders": senders.all_senders(), "may_edit": senders.may_edit(request.user)})


def _state(identity: SenderIdentity | None) -> dict[str, Any]:
    if identity is None:
        return {"name": "", "from_name": "", "from_email": "", "reply_to": "",
                "is_default": not SenderIdentity.objects.exists()}
    return {f: getattr(identity, f) for f in senders.FIELDS}


def _state_from_post(post: QueryDict) -> dict[str, Any]:
    return {"name": post.get("name", ""), "from_name": post.get("from_name", ""),
            "from_email": post.get("from_email", ""), "reply_to": post.get("reply_to", ""),
            "is_default": post.get("is_default") in ("on", "true", "1")}


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def sender_edit(request: AuthedRequest, sender_id: int | None = None) -> HttpResponse:
    """GET the form of a new identity (or of identity `sender_id`); POST saves it."""
    identity = _find(sender_id) if sender_id is not None else None
    if sender_id is not None and identity is None:
        return render_error(request, NotFound(_("No such sender identity.")))
    state = _state(identity) if request.method != "POST" else _state_from_post(request.POST)
    if request.method == "POST":
        try:
            saved = senders.save_sender(request.user, identity, state)
        except LeadflowError as exc:
            return render(request, "emails/sender_edit.html", {
                "sender": identity, "form": state, "error": exc.message,
                "error_field": exc.field or ""}, status=exc.status)
        messages.success(request, _("Sender identity saved."))
        return redirect("emails:sender_dns", saved.pk)
    return render(request, "emails/sender_edit.html", {"sender": identity, "form": state})


@_editors_only
@require_POST
def sender_delete(request: AuthedRequest, sender_id: int) -> HttpResponse:
    identity = _find(sender_id)
    if identity is None:
        return render_error(request, NotFound(_("No such sender identity.")))
    senders.delete_sender(request.user, identity)
    messages.success(request, _("Sender identity deleted."))
    return redirect("emails:senders")


@_viewers_only
@require_http_methods(["GET", "HEAD"])
def sender_dns(request: AuthedRequest, sender_id: int) -> HttpResponse:
    """The records the identity's domain needs, with the last check's verdicts."""
    identity = _find(sender_id)
    if identity is None:
        return render_error(request, NotFound(_("No such sender identity.")))
    return render(request, "emails/sender_dns.html", {
        "sender": identity, "report": dns_check.report(identity.domain),
        "signs": dkim.key_for(identity.domain) is not None,
        "may_edit": senders.may_edit(request.user)})


@_editors_only
@require_POST
def sender_dns_check(request: AuthedRequest, sender_id: int) -> HttpResponse:
    """Check now: a worker asks DNS and the page shows its answer once it is in."""
    identity = _find(sender_id)
    if identity is None:
        return render_error(request, NotFound(_("No such sender identity.")))
    dns_check.request_check(request.user, identity.domain)
    messages.info(request, _("A worker is looking up the records: reload the page in a "
                             "few seconds."))
    return redirect("emails:sender_dns", identity.pk)
