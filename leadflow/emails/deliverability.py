"""Bounce and complaint rates per sending domain over the last 30 days: what mailbox
providers judge a sender by. Above a 0.3% complaint rate (the bulk senders' threshold of
Gmail and Yahoo) mail starts going to spam, and admins are told (notifications)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count

from leadflow.core import clock
from leadflow.emails.models import Bounce, EmailMessage, SenderIdentity

WINDOW = timedelta(days=30)
COMPLAINT_THRESHOLD = 0.003


@dataclass(frozen=True)
class DomainRate:
    domain: str
    sent: int
    hard_bounces: int
    complaints: int

    @property
    def bounce_rate(self) -> float:
        return self.hard_bounces / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def bounce_percent(self) -> float:
        return self.bounce_rate * 100

    @property
    def complaint_percent(self) -> float:
        return self.complaint_rate * 100

    @property
    def alert(self) -> bool:
        return self.complaint_rate > COMPLAINT_THRESHOLD


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip("> ").lower()


def domain_rates() -> list[DomainRate]:
    """Per sending domain (the sender identity's, else LEADFLOW_FROM_EMAIL's): messages
    sent, hard bounces and complaints over WINDOW, worst complaint rate first. Three
    queries, whatever the volume."""
    since = clock.now() - WINDOW
    default = _domain(settings.DEFAULT_FROM_EMAIL)
    domains = {pk: _domain(address) for pk, address in
               SenderIdentity.objects.values_list("pk", "from_email")}
    sent: dict[str, int] = {}
    for sender, n in (EmailMessage.objects.filter(sent_at__gte=since).values("sender_id")
                      .annotate(n=Count("pk")).values_list("sender_id", "n")):
        domain = domains.get(sender, default)
        sent[domain] = sent.get(domain, 0) + n
    counts: dict[tuple[str, str], int] = {}
    for sender, kind, n in (Bounce.objects.filter(
            received_at__gte=since, message__isnull=False,
            kind__in=[Bounce.Kind.HARD, Bounce.Kind.COMPLAINT])
            .values("message__sender_id", "kind").annotate(n=Count("pk"))
            .values_list("message__sender_id", "kind", "n")):
        key = (domains.get(sender, default), kind)
        counts[key] = counts.get(key, 0) + n
    names = set(sent) | {domain for domain, _ in counts}
    rates = [DomainRate(d, sent.get(d, 0), counts.get((d, Bounce.Kind.HARD), 0),
                        counts.get((d, Bounce.Kind.COMPLAINT), 0)) for d in names]
    return sorted(rates, key=lambda r: (-r.complaint_rate, -r.sent, r.domain))


def recent_bounces(limit: int = 50) -> list[Bounce]:
    return list(Bounce.objects.select_related("message")[:limit])
