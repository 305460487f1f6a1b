"""The preference centre: a lead chooses which topics of marketing email they get."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from leadflow.emails import tokens
from leadflow.emails.models import Topic, TopicOptOut


def preferences_url(lead_id: int) -> str:
    """The lead's own preference centre (a signed link, in every marketing email)."""
    return settings.BASE_URL + reverse("emails:preferences",
                                       args=[tokens.preferences_token(lead_id)])


def choices(lead_id: int) -> list[tuple[Topic, bool]]:
    """Each topic and whether the lead receives it."""
    out = set(TopicOptOut.objects.filter(lead_id=lead_id).values_list("topic_id", flat=True))
    return [(topic, topic.pk not in out) for topic in Topic.objects.all()]
