"""The campaign action "call a webhook": a delivery to the subscription the step's
config names (`{"subscription_id": n}`), with the lead and the campaign, for every
membership at the step in one insert. The message id is made from the visit's key, so
a step run twice for one visit (a worker died) queues one delivery."""

from __future__ import annotations

import hashlib

from leadflow.campaigns.steps import Context
from leadflow.campaigns.walk import Walker
from leadflow.core import clock
from leadflow.webhooks import services
from leadflow.webhooks.models import Delivery, Subscription

CALL_WEBHOOK = "call_webhook"
KIND = "campaign.step"


def call_webhook(step, walkers: list[Walker], ctx: Context) -> None:
    sub_id = (step.config or {}).get("subscription_id")
    sub = Subscription.objects.filter(pk=sub_id).first() if isinstance(sub_id, int) else None
    if sub is None:
        for w in walkers:
            w.fail("call a webhook: no such webhook subscription")
        return
    leads = ctx.leads()
    campaign = ctx.campaigns[step.campaign_id]
    now = clock.now()
    rows = []
    for w in walkers:
        lead = leads.get(w.lead_id)
        if lead is None:
            w.leave("lead deleted")
            continue
        row = services.make_delivery(sub.pk, KIND, {
            "lead": services.lead_data(lead),
            "campaign": {"id": campaign.pk, "name": campaign.name, "step": step.position}},
            lead.pk, now)
        row.message_id = "msg_" + hashlib.sha256(w.key().encode()).hexdigest()[:32]
        rows.append(row)
        w.yes()
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        services.wake_workers()


def check_config(config: dict, at: str) -> dict:
    """The step's settings: an existing subscription's id (InvalidInput naming it)."""
    from django.utils.translation import gettext as _

    from leadflow.core.errors import InvalidInput

    unknown = sorted(set(config) - {"subscription_id"})
    if unknown:
        raise InvalidInput(_("Unknown field: %(field)s.") % {"field": unknown[0]},
                           field=f"{at}.{unknown[0]}")
    pk = config.get("subscription_id")
    if isinstance(pk, bool) or not isinstance(pk, int) or not Subscription.objects.filter(
            pk=pk).exists():
        raise InvalidInput(_("Choose a webhook subscription."), field=f"{at}.subscription_id")
    return {"subscription_id": pk}
