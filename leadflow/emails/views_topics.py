"""The topics page (/emails/topics/): the kinds of marketing email a lead may choose in
the preference centre. Everyone reads them; admins and marketing edit them
(`emails.topics`)."""

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
from leadflow.emails import suppression_list, topics
from leadflow.emails.models import Topic

_editors_only = allowed_only(topics.may_edit,
                             gettext_lazy("Only admins and marketing edit email topics."))
_readers_only = allowed_only(topics.may_view,
                             gettext_lazy("You may not read the email topics."))


@_readers_only
@require_http_methods(["GET", "HEAD"])
def topic_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "emails/topics.html", {
        "topics": [{"obj": t, "name": topics.name(t), "description": topics.description(t)}
                   for t in topics.all_topics()],
        "may_edit": topics.may_edit(request.user),
        "sees_suppression": suppression_list.may_view(request.user)})


def _state(topic: Topic | None) -> dict[str, Any]:
    if topic is None:
        return {f: "" for f in topics.FIELDS}
    return {f: getattr(topic, f) for f in topics.FIELDS}


def _state_from_post(post: QueryDict, topic: Topic | None) -> dict[str, Any]:
    fields = topics.FIELDS if topic is None else tuple(f for f in topics.FIELDS if f != "key")
    return {f: post.get(f, "") for f in fields}


def _find(topic_id: int) -> Topic | None:
    return Topic.objects.filter(pk=topic_id).first() if valid_id(topic_id) else None


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def topic_edit(request: AuthedRequest, topic_id: int | None = None) -> HttpResponse:
    """GET the form of a new topic (or of topic `topic_id`); POST saves it."""
    topic = _find(topic_id) if topic_id is not None else None
    if topic_id is not None and topic is None:
        return render_error(request, NotFound(_("No such topic.")))
    if request.method != "POST":
        return render(request, "emails/topic_edit.html",
                      {"topic": topic, "form": _state(topic)})
    state = _state_from_post(request.POST, topic)
    try:
        topics.save_topic(request.user, topic, state)
    except LeadflowError as exc:
        return render(request, "emails/topic_edit.html",
                      {"topic": topic, "form": {**_state(topic), **state},
                       "error": exc.message, "error_field": exc.field or ""},
                      status=exc.status)
    messages.success(request, _("The topic is saved."))
    return redirect("emails:topics")


@_editors_only
@require_POST
def topic_delete(request: AuthedRequest, topic_id: int) -> HttpResponse:
    topic = _find(topic_id)
    if topic is None:
        return render_error(request, NotFound(_("No such topic.")))
    try:
        topics.delete_topic(request.user, topic)
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("The topic is deleted."))
    return redirect("emails:topics")
