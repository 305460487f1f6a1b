"""What may be sent, decided for a whole batch of outbox rows at once (a few queries).

Asked when a message is queued and again when a worker is about to send it, since a lead
may unsubscribe, complain or be erased in between. Marketing mail needs, in this order:
a lead not erased, an address, the address not suppressed, no do-not-email, consent for
marketing (LEADFLOW_MARKETING_BASIS=consent, the default) and no double opt-in pending,
the topic not refused, and room under every frequency cap (a campaign in test mode
skips the leads off its test list when the step queues: lists.testmode). Transactional
mail (an opt-in confirmation, a rep's notification) needs an address that has not
bounced, complained or been suppressed by hand: an unsubscribe stops marketing, not the
confirmation a person asks for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min

from leadflow.core import clock
from leadflow.emails import suppression
from leadflow.emails.models import EmailMessage, FrequencyCap, Suppression, TopicOptOut

Skip = EmailMessage.Skip

# Hooks of apps above emails, each `(lead ids) -> lead ids held back`: capture registers
# its pending double opt-ins.
_marketing_holds: list[Callable[[list[int]], set[int]]] = []


def register_marketing_hold(hold: Callable[[list[int]], set[int]]) -> None:
    if hold not in _marketing_holds:
        _marketing_holds.append(hold)


@dataclass(frozen=True)
class Verdict:
    skip: str = ""  # an EmailMessage.Skip value
    wait_until: datetime | None = None  # a frequency cap that waits rather than skips


def decide(messages: list[EmailMessage]) -> dict[int, Verdict]:
    """The messages that must not go now (by id), and why; each message has `.lead`
    loaded (None when the lead is gone)."""
    out: dict[int, Verdict] = {}
    barred = _barred({m.to_email for m in messages if m.to_email})
    marketing: list[EmailMessage] = []
    for m in messages:
        if m.lane == EmailMessage.Lane.MARKETING:
            reason = _lead_reason(m)
            if not reason and suppression.normalise(m.to_email) in barred["any"]:
                reason = Skip.SUPPRESSED
            if reason:
                out[m.pk] = Verdict(reason)
            else:
                marketing.append(m)
        elif not m.to_email:
            out[m.pk] = Verdict(Skip.NO_ADDRESS)
        elif suppression.normalise(m.to_email) in barred["transactional"]:
            out[m.pk] = Verdict(Skip.SUPPRESSED)
    if marketing:
        out.update(_marketing(marketing))
    return out


def _lead_reason(m: EmailMessage) -> str:
    lead = m.lead
    if lead is None or lead.erased_at:
        return Skip.ERASED
    if not m.to_email:
        return Skip.NO_ADDRESS
    if lead.do_not_email:
        return Skip.DO_NOT_EMAIL
    if settings.MARKETING_BASIS == "consent" and not lead.marketing_consent:
        return Skip.NO_CONSENT
    return ""


def _barred(addresses: set[str]) -> dict[str, set[str]]:
    """Suppressed addresses: all of them bar marketing; all but "unsubscribed" bar
    transactional mail."""
    if not addresses:
        return {"any": set(), "transactional": set()}
    by_hash = {suppression.address_hash(a): suppression.normalise(a) for a in addresses}
    rows = Suppression.objects.filter(address_hash__in=list(by_hash)).values_list(
        "address_hash", "reason")
    found = [(by_hash[h], reason) for h, reason in rows]
    return {"any": {a for a, _ in found},
            "transactional": {a for a, r in found if r != Suppression.Reason.UNSUBSCRIBED}}


def _marketing(messages: list[EmailMessage]) -> dict[int, Verdict]:
    out: dict[int, Verdict] = {}
    lead_ids = sorted({m.lead_id for m in messages})
    held: set[int] = set()
    for hold in _marketing_holds:
        held |= hold(lead_ids)
    topics = {m.topic_id for m in messages if m.topic_id}
    refused = set(TopicOptOut.objects.filter(lead_id__in=lead_ids, topic_id__in=topics)
                  .values_list("lead_id", "topic_id")) if topics else set()
    going = []
    for m in messages:
        if m.lead_id in held:
            out[m.pk] = Verdict(Skip.PENDING_OPTIN)
        elif (m.lead_id, m.topic_id) in refused:
            out[m.pk] = Verdict(Skip.TOPIC)
        else:
            going.append(m)
    out.update(_capped(going))
    return out


def _capped(messages: list[EmailMessage]) -> dict[int, Verdict]:
    """Frequency caps: per cap, one query counts each lead's marketing emails sent within
    its period; messages of the batch count as they are let through."""
    caps = list(FrequencyCap.objects.all())
    if not caps or not messages:
        return {}
    now = clock.now()
    lead_ids = sorted({m.lead_id for m in messages})
    out: dict[int, Verdict] = {}
    for cap in caps:
        period = timedelta(hours=cap.period_hours)
        sent = EmailMessage.objects.filter(
            lane=EmailMessage.Lane.MARKETING, lead_id__in=lead_ids, sent_at__gt=now - period)
        if cap.campaign_id:
            sent = sent.filter(campaign_id=cap.campaign_id)
        counts = {row["lead_id"]: (row["n"], row["first"]) for row in
                  sent.values("lead_id").annotate(n=Count("id"), first=Min("sent_at"))}
        taken: dict[int, int] = defaultdict(int)
        for m in messages:
            if m.pk in out or (cap.campaign_id and m.campaign_id != cap.campaign_id):
                continue
            n, first = counts.get(m.lead_id, (0, None))
            if n + taken[m.lead_id] < cap.max_messages:
                taken[m.lead_id] += 1
                continue
            wait = cap.when_reached == FrequencyCap.WhenReached.WAIT
            out[m.pk] = Verdict(Skip.FREQUENCY_CAP,
                                ((first or now) + period) if wait else None)
    return out


def reason_label(code: str) -> str:
    return str(dict(EmailMessage.Skip.choices).get(code, code))

