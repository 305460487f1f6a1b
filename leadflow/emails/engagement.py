"""Is an email open or click a person's, or a machine's?

Privacy proxies (Apple Mail Privacy Protection, Gmail's and Yahoo's image proxies) load
every image of a message without anyone reading it, and security scanners (Microsoft Safe
Links, Mimecast, Proofpoint, Barracuda) follow every link, often within a second of
delivery. Counted as a person, they would score leads, move them through campaigns and,
worse, hand a scanner the `lf_id` that identifies the reader's browser.

Each open and click is classified when it arrives, from what its request shows: the HTTP
method (HEAD fetches no page), the user agent (known proxies and scanners, crawlerdetect's
bots, none at all), the address (the ranges in data/machine_ranges.json and
LEADFLOW_MACHINE_NETWORKS), and for clicks the time since sending and other links of the
same message clicked seconds before. The class is stored on the event (`engagement`:
"human" or "machine", with `machine_reason` and `machine_by`); only a human open or click
sets the message's opened_at / clicked_at.

A reader's click can hit a rule (a person clicking two links within seconds), and the
first click of a scanner's burst may pass as a person's: the class is a best judgement,
which is why it is stored, and shown, rather than used to drop the event.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db.models import Q

from leadflow.core.http import client_ip
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from django.http import HttpRequest

    from leadflow.emails.models import EmailMessage

HUMAN, MACHINE = "human", "machine"
Kind = Literal["open", "click"]

# machine_reason values (their wording on the timeline: tracking.events.MACHINE_REASONS).
PROXY, SCANNER, BOT, NO_USER_AGENT = "proxy", "scanner", "bot", "no_user_agent"
PERSON = "person"  # a data-file user agent: a mail client acting for its reader
HEAD, LISTED, TOO_SOON, ALL_LINKS = "head_request", "listed_network", "too_soon", "all_links"

_DATA = Path(__file__).parent / "data" / "machine_ranges.json"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Hit:
    """What the request for a pixel or a link shows of who sent it. `user_agent` is None
    for an open or click recorded without a request (a service call, the demo): there is
    no evidence, and nothing is held against it."""

    ip: str = ""
    user_agent: str | None = None
    method: str = "GET"

    @classmethod
    def of(cls, request: HttpRequest) -> Hit:
        return cls(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""),
                   method=(request.method or "GET").upper())


@dataclass(frozen=True)
class Verdict:
    engagement: str = HUMAN
    reason: str = ""
    by: str = ""  # the proxy or scanner, when known ("Mimecast")

    @property
    def human(self) -> bool:
        return self.engagement == HUMAN

    def properties(self) -> dict[str, str]:
        """What the event stores."""
        if self.human:
            return {"engagement": HUMAN}
        return {"engagement": MACHINE, "machine_reason": self.reason,
                **({"machine_by": self.by} if self.by else {})}

    def key(self, base: str) -> str:
        """The event's idempotency key: one event per class, so that a proxy's open first
        never hides the reader's own later (a human's key is the one used before classes)."""
        return base if self.human else f"{base}:{MACHINE}"


@dataclass(frozen=True)
class _Rule:
    name: str
    kind: str  # PROXY, SCANNER or PERSON
    applies_to: frozenset[str]
    equals: str = ""
    contains: str = ""
    networks: tuple[Network, ...] = ()


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[_Rule, ...], tuple[_Rule, ...]]:
    """(user-agent rules, network rules) of the shipped data file."""
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    agents = tuple(_Rule(r["name"], r["kind"], frozenset(r["applies_to"]),
                         equals=r.get("equals", ""), contains=r.get("contains", "").lower())
                   for r in data["user_agents"])
    networks = tuple(_Rule(r["name"], r["kind"], frozenset(r["applies_to"]),
                           networks=tuple(ipaddress.ip_network(n) for n in r["ranges"]))
                     for r in data["networks"])
    return agents, networks


def shipped_ranges() -> list[dict[str, Any]]:
    """The data file's network entries as written (name, kind, source, ranges)."""
    return list(json.loads(_DATA.read_text(encoding="utf-8"))["networks"])


def _by_request(hit: Hit, kind: Kind) -> Verdict | None:
    """A machine's verdict from the request alone, or None."""
    if hit.method == "HEAD":
        return Verdict(MACHINE, HEAD)
    agents, networks = _rules()
    ua = hit.user_agent
    client = None  # a person's mail client, named by its user agent
    if ua is not None:
        if not ua.strip():
            return Verdict(MACHINE, NO_USER_AGENT)
        lowered = ua.strip().lower()
        for rule in agents:
            if kind in rule.applies_to and (
                    (rule.equals and ua.strip() == rule.equals)
                    or (rule.contains and rule.contains in lowered)):
                if rule.kind == PERSON:
                    client = rule
                    break
                return Verdict(MACHINE, rule.kind, rule.name)
    address = _address(hit.ip)
    if address is not None:
        for rule in networks:
            if kind in rule.applies_to and any(address in n for n in rule.networks):
                return Verdict(MACHINE, rule.kind, rule.name)
        if any(address in n for n in settings.LEADFLOW_MACHINE_NETWORKS):
            return Verdict(MACHINE, LISTED)
    if ua is not None and client is None:
        from leadflow.tracking.bots import is_bot

        if is_bot(ua):
            return Verdict(MACHINE, BOT)
    return None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def classify_open(hit: Hit) -> Verdict:
    return _by_request(hit, "open") or Verdict()


def classify_click(hit: Hit, message: EmailMessage, index: int, at: datetime) -> Verdict:
    """A click on link `index` of `message` at `at`. The caller holds the message's row
    lock, so that a scanner's simultaneous clicks see each other (the burst rule)."""
    verdict = _by_request(hit, "click")
    if verdict is not None:
        return verdict
    soon = timedelta(seconds=settings.LEADFLOW_MACHINE_CLICK_SECONDS)
    if message.sent_at is not None and soon and at - message.sent_at < soon:
        return Verdict(MACHINE, TOO_SOON)
    burst = timedelta(seconds=settings.LEADFLOW_MACHINE_BURST_SECONDS)
    if burst and _other_link_clicked(message, index, at - burst):
        return Verdict(MACHINE, ALL_LINKS)
    return Verdict()


def _other_link_clicked(message: EmailMessage, index: int, since: datetime) -> bool:
    """Whether another link of `message` was clicked since `since` (by the lead's recent
    clicks: the lead-and-time index finds them)."""
    recent = Event.objects.filter(lead_id=message.lead_id, type=EventType.EMAIL_CLICKED,
                                  occurred_at__gte=since).values_list("properties", flat=True)
    return any(p.get("message_id") == message.pk and p.get("link") != index for p in recent)


def by_a_person(q: Q) -> Q:
    """Events of a person: classified human, or recorded before opens and clicks were
    classified (they count as they always did)."""
    return q & (Q(properties__engagement=HUMAN) | Q(properties__engagement__isnull=True))


def engaged_leads(lead_ids: Iterable[int], kind: Kind = "open", *,
                  campaign_id: int | None = None, message_ids: Iterable[int] | None = None,
                  since: datetime | None = None, human_only: bool = True) -> set[int]:
    """The leads among `lead_ids` who opened (kind="open") or clicked (kind="click") an
    email: of `campaign_id`, or one of `message_ids`, at or after `since`. One query.

    By default only a person's engagement counts (human_only): a proxy's open or a
    scanner's click is not the lead's. Pass human_only=False to count machines too.
    """
    type_ = {"open": EventType.EMAIL_OPENED, "click": EventType.EMAIL_CLICKED}[kind]
    q = Q(lead_id__among=list(lead_ids), type=type_)
    if campaign_id is not None:
        q &= Q(properties__campaign_id=campaign_id)
    if message_ids is not None:
        q &= Q(properties__message_id__in=list(message_ids))
    if since is not None:
        q &= Q(occurred_at__gte=since)
    if human_only:
        q = by_a_person(q)
    return set(Event.objects.filter(q).values_list("lead_id", flat=True).distinct())
