"""`/api/v1/emails/topics`: the kinds of marketing email a lead chooses among in the
preference centre. Read by every user; written by admins and marketing (`emails.topics`).
Mounted by server/api.py on the emails prefix."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.core.params import row_or_404
from leadflow.core.responses import answers
from leadflow.emails import topics
from leadflow.emails.models import Topic

router = Router(tags=["emails"])


class TopicOut(Schema):
    id: int
    key: str = Field(description="Its short name; fixed once created")
    name: str = Field(description="The name in English")
    name_fr: str = Field(description="The name in French (empty: the English one is shown)")
    description: str
    description_fr: str
    position: int = Field(description="Its place in the preference centre (smallest first)")


class TopicPatch(Schema):
    # Accepted only unchanged: a change is refused (422), not silently dropped.
    key: str | None = Field(None, description="Fixed once created")
    name: str | None = None
    name_fr: str | None = None
    description: str | None = None
    description_fr: str | None = None
    position: int | None = Field(None, description="Empty on create: after the others")


class TopicIn(TopicPatch):
    key: str = Field(description="Lower-case letters, digits, - and _ "  # type: ignore[assignment]
                                 "(at most 60)")
    name: str  # type: ignore[assignment]


def _topic(topic_id: int) -> Topic:
    return row_or_404(Topic, topic_id, _("No such topic."))


@router.get("/topics", response=answers(list[TopicOut]), summary="List the email topics")
def list_topics(request):
    topics.check_may_view(request.user)
    return topics.all_topics()


@router.get("/topics/{topic_id}", response=answers(TopicOut, 404, 422),
            summary="An email topic")
def get_topic(request, topic_id: int):
    topics.check_may_view(request.user)
    return _topic(topic_id)


@router.post("/topics", response=answers({201: TopicOut}, 409, 413, 422),
             summary="Add an email topic (on for every lead until they opt out)")
def create_topic(request, payload: TopicIn):
    return Status(201, topics.save_topic(request.user, None, payload.dict(exclude_unset=True)))


@router.patch("/topics/{topic_id}", response=answers(TopicOut, 404, 413, 422),
              summary="Change an email topic (only the fields given)")
def update_topic(request, topic_id: int, payload: TopicPatch):
    topics.check_may_edit(request.user)
    return topics.save_topic(request.user, _topic(topic_id), payload.dict(exclude_unset=True))


@router.delete("/topics/{topic_id}", response=answers({204: None}, 404, 409, 422),
               summary="Delete an email topic and the leads' opt-outs of it (refused while "
                       "a template uses it)")
def delete_topic(request, topic_id: int):
    topics.check_may_edit(request.user)
    topics.delete_topic(request.user, _topic(topic_id))
    return Status(204, None)
