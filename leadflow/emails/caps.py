"""Frequency caps: at most so many marketing emails to a lead within so many hours,
across all marketing email or within one campaign. The outbox enforces them at send time
(emails.policy); here are the services behind their page and API.

Reads and writes ask `accounts.permissions.may(user, ..., "email")`: admins and
marketing. The audit log records every change with its actor (leadflow.audit.signals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Model
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, VIEW, Actor, may
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, check_fields
from leadflow.core.params import MAX_ID
from leadflow.emails.models import FrequencyCap

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None

FIELDS = ("campaign", "max_messages", "period_hours", "when_reached")
MAX_MESSAGES = 10_000
MAX_PERIOD_HOURS = 8760  # a year: a longer window counts mail nobody remembers sending
_NUMBER = re.compile(r"[0-9]{1,19}")


def may_view(user: User) -> bool:
    return may(user, VIEW, "email")


def may_edit(user: User) -> bool:
    return may(user, CHANGE, "email")


def check_may_view(user: User) -> None:
    if not may_view(user):
        raise Forbidden(_("Only admins and marketing see the frequency caps."))


def check_may_edit(actor: Who) -> None:
    actor = Actor.of(actor)
    if actor.is_public or (actor.user is not None and not may_edit(actor.user)):
        raise Forbidden(_("Only admins and marketing edit the frequency caps."))


def _campaigns() -> Any:
    # Campaigns stand above emails (they import it): reach their model through the key.
    model: type[Model] = FrequencyCap._meta.get_field("campaign").related_model  # type: ignore[assignment]
    return model._default_manager


def all_caps() -> list[FrequencyCap]:
    """Every cap, the all-email ones first, then by campaign and window."""
    return list(FrequencyCap.objects.select_related("campaign")
                .order_by(F("campaign__name").asc(nulls_first=True), "period_hours",
                          "max_messages", "pk"))


def campaign_choices() -> list[tuple[int, str]]:
    return list(_campaigns().order_by("name").values_list("pk", "name"))


def _whole(value: Any, field: str, low: int, high: int) -> int:
    whole = isinstance(value, int | str) and not isinstance(value, bool)
    text = str(value).strip() if whole else ""
    if not _NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidInput(_("Enter a whole number between %(min)s and %(max)s.")
                           % {"min": low, "max": high}, field=field)
    return int(text)


def _campaign_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    pk = _whole(value, "campaign", 1, MAX_ID)
    if not _campaigns().filter(pk=pk).exists():
        raise InvalidInput(_("No such campaign."), field="campaign")
    return pk


def clean_cap(data: Mapping[str, Any], cap: FrequencyCap | None = None) -> dict[str, Any]:
    """The cap's values after `data` (only the keys given change `cap`), checked; raises
    InvalidInput naming the field at fault, Conflict when the same cap exists already."""
    check_fields(data, FIELDS)
    current: dict[str, Any] = (
        {"campaign": cap.campaign_id, "max_messages": cap.max_messages,
         "period_hours": cap.period_hours, "when_reached": cap.when_reached}
        if cap is not None else {"campaign": None, "max_messages": None,
                                 "period_hours": None,
                                 "when_reached": FrequencyCap.WhenReached.SKIP})
    values = {**current, **data}
    when = values.get("when_reached") or FrequencyCap.WhenReached.SKIP
    if when not in FrequencyCap.WhenReached.values:
        raise InvalidInput(_("Choose skip or wait."), field="when_reached")
    out: dict[str, Any] = {
        "campaign_id": _campaign_id(values.get("campaign")),
        "max_messages": _whole(values.get("max_messages"), "max_messages", 1, MAX_MESSAGES),
        "period_hours": _whole(values.get("period_hours"), "period_hours", 1,
                               MAX_PERIOD_HOURS),
        "when_reached": when}
    same = FrequencyCap.objects.filter(campaign_id=out["campaign_id"],
                                       max_messages=out["max_messages"],
                                       period_hours=out["period_hours"])
    if cap is not None:
        same = same.exclude(pk=cap.pk)
    if same.exists():
        raise Conflict(_("The same cap exists already."), field="max_messages")
    return out


def save_cap(actor: Who, cap: FrequencyCap | None, data: Mapping[str, Any]) -> FrequencyCap:
    """Create (`cap` None) or change a cap from `data` (keys of FIELDS; `campaign` an id or
    None for all marketing email; for a change, only those given). It holds from the
    next batch the outbox sends."""
    check_may_edit(actor)
    values = clean_cap(data, cap)
    with transaction.atomic():
        target = cap if cap is not None else FrequencyCap()
        for key, value in values.items():
            setattr(target, key, value)
        target.save()
    return target


def delete_cap(actor: Who, cap: FrequencyCap) -> None:
    """Delete a cap. Emails it held back (`wait`) are checked again at their planned
    time, against the caps left."""
    check_may_edit(actor)
    cap.delete()
