"""The event kinds a webhook subscription may ask for: a registry, so that a later kind
(the SLA breach) is one `register(...)` line in its app's AppConfig.ready().

Each kind names the timeline event type(s) it is sent for; `lead.erased` has none (the
erasure itself sends it, leads.privacy's store hook) and `webhook.test` is the "send test"
button's."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from leadflow.tracking.models import EventType


@dataclass(frozen=True)
class WebhookKind:
    key: str
    label: str | Promise
    event_types: tuple[str, ...] = ()


REGISTRY: dict[str, WebhookKind] = {}
ERASED = "lead.erased"
TEST = "webhook.test"


def register(kind: WebhookKind) -> None:
    REGISTRY[kind.key] = kind


def by_event_type() -> dict[str, list[str]]:
    """event type -> the kinds sent for it."""
    found: dict[str, list[str]] = {}
    for kind in REGISTRY.values():
        for t in kind.event_types:
            found.setdefault(t, []).append(kind.key)
    return found


for _key, _label, _types in (
    ("lead.created", _("Lead created"), (EventType.LEAD_CREATED,)),
    ("lead.updated", _("Lead updated"), (EventType.LEAD_UPDATED,)),
    ("lead.stage_changed", _("Stage changed"), (EventType.STAGE_CHANGED,)),
    ("lead.assigned", _("Lead assigned"), (EventType.ASSIGNED,)),
    ("lead.won", _("Deal won"), (EventType.WON,)),
    ("lead.lost", _("Deal lost"), (EventType.LOST,)),
    ("lead.unsubscribed", _("Unsubscribed"), (EventType.UNSUBSCRIBED,)),
    ("lead.consent_withdrawn", _("Consent withdrawn"), (EventType.CONSENT_WITHDRAWN,)),
    (ERASED, _("Lead erased"), ()),
    ("form.submitted", _("Form submitted"), (EventType.FORM_SUBMITTED,)),
):
    register(WebhookKind(_key, _label, _types))
