"""The preference centre: a lead chooses which topics of marketing email they get, or
none at all.

The page is public: its signed link (`preferences_url`, in every marketing email) is the
authority, as the unsubscribe link's is. Only opt-outs are stored (TopicOptOut): a new
topic is on for everyone. "All off" is an unsubscribe (services.withdraw_marketing):
consent withdrawn, do-not-email, the address suppressed; turning topics on afterwards
does not bring consent back, only a new confirmed opt-in does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _

from leadflow.core import clock
from leadflow.core.errors import NotFound
from leadflow.emails import tokens
from leadflow.emails.models import Topic, TopicOptOut
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType


def preferences_url(lead_id: int) -> str:
    """The lead's own preference centre (a signed link, in every marketing email)."""
    return settings.BASE_URL + reverse("emails:preferences",
                                       args=[tokens.preferences_token(lead_id)])


def choices(lead_id: int) -> list[tuple[Topic, bool]]:
    """Each topic and whether the lead receives it."""
    out = set(TopicOptOut.objects.filter(lead_id=lead_id).values_list("topic_id", flat=True))
    return [(topic, topic.pk not in out) for topic in Topic.objects.all()]


@dataclass
class Page:
    lead: Lead
    choices: list[tuple[Topic, bool]]
    # No marketing email at all (unsubscribed, "all off", or marked do-not-email).
    all_off: bool
    # The lead's own language, when Leadflow speaks it ("" otherwise: the reader's).
    language: str


def _lead(token: str, *, lock: bool = False) -> Lead:
    lead_id = tokens.read_preferences_token(token)
    found = Lead.objects.filter(pk=lead_id, erased_at__isnull=True) if lead_id else None
    lead = (found.select_for_update() if lock else found).first() if found is not None else None
    if lead is None:
        raise NotFound(_("This link is not valid."))
    return lead


def language_of(lead: Lead) -> str:
    code = (lead.language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code and check_for_language(code) and code in dict(
        settings.LANGUAGES) else ""


def page(token: str) -> Page:
    """What the preference centre shows for the lead of `token` (reads only). Raises
    NotFound for a bad token, a deleted or an erased lead."""
    lead = _lead(token)
    return Page(lead=lead, choices=choices(lead.pk), all_off=lead.do_not_email,
                language=language_of(lead))


@dataclass
class Saved:
    turned_off: list[str]
    turned_on: list[str]
    unsubscribed: bool


@transaction.atomic
def save(token: str, wanted: Iterable[int | str], *, all_off: bool = False,
         ip: str | None = None) -> Saved:
    """Store the lead's choice: the topics in `wanted` (ids) on, every other topic off;
    `all_off` also unsubscribes them from all marketing email. Records one
    `preferences_changed` event naming the topics turned off and on (none when nothing
    changed). Raises NotFound for a bad token, a deleted or an erased lead."""
    from leadflow.emails.services import withdraw_marketing
    from leadflow.tracking.services import record_event

    lead = _lead(token, lock=True)
    keys = dict(Topic.objects.values_list("pk", "key"))
    on = {int(t) for t in wanted if str(t).isdecimal() and int(t) in keys}
    before = set(TopicOptOut.objects.filter(lead=lead).values_list("topic_id", flat=True))
    after = set(keys) - on
    turned_off, turned_on = sorted(after - before), sorted(before - after)
    if turned_on:
        TopicOptOut.objects.filter(lead=lead, topic_id__in=turned_on).delete()
    if turned_off:
        now = clock.now()
        TopicOptOut.objects.bulk_create(
            [TopicOptOut(lead=lead, topic_id=t, created_at=now) for t in turned_off],
            ignore_conflicts=True)
    unsubscribed = all_off and withdraw_marketing(
        lead, method="preference centre", ip=ip, properties={"via": "preferences"})
    saved = Saved([keys[t] for t in turned_off], [keys[t] for t in turned_on], unsubscribed)
    if turned_off or turned_on or unsubscribed:
        record_event(EventType.PREFERENCES_CHANGED, lead=lead, via=Event.Via.EMAIL,
                     properties={"turned_off": saved.turned_off, "turned_on": saved.turned_on,
                                 "all_off": unsubscribed})
    return saved
