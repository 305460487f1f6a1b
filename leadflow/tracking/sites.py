"""Tracking sites (the websites carrying the snippet) and the numbers shown about them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import may_manage_secrets
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, NotFound
from leadflow.tracking.models import BotHitCount, Event, EventType, TrackingSite, Visitor

if TYPE_CHECKING:
    from leadflow.accounts.models import User

INSTALL = ('<script>window.leadflow=window.leadflow||function(){{(leadflow.q=leadflow.q||[])'
           '.push(arguments)}};</script>\n'
           '<script src="{base}/t/lf.js" data-site="{key}" async></script>\n'
           '<noscript><img src="{base}/t/p.gif?s={key}" width="1" height="1" alt=""></noscript>')


def _clean_domains(raw: str) -> list[str]:
    domains = []
    for part in raw.replace(",", " ").split():
        host = part.strip().lower()
        host = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if not host or len(host) > 253 or not all(c.isalnum() or c in ".-" for c in host):
            raise InvalidInput(_("%(domain)r is not a domain name.")
                               % {"domain": part[:100]}, field="domains")
        domains.append(host)
    return domains


def create_site(name: str, domains: str) -> TrackingSite:
    """A new site with a random key. Precondition: a name and at least one domain (events
    from any other origin are refused)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput(_("Give the site a name of at most 120 characters."), field="name")
    hosts = _clean_domains(domains)
    if not hosts:
        raise InvalidInput(_("List at least one domain the site is served from."),
                           field="domains")
    return TrackingSite.objects.create(name=name, key="lf_" + secrets.token_urlsafe(12),
                                       allowed_domains="\n".join(hosts))


def identity_hash(secret: str, email: str) -> str:
    """What the customer's server sends as `user_hash` with identify: lower-case hex of
    HMAC-SHA256(secret, email.strip().lower()), both in UTF-8."""
    return hmac.new(secret.encode(), email.strip().lower().encode(),
                    hashlib.sha256).hexdigest()


def verifies(site: TrackingSite, email: str, user_hash: object) -> bool:
    """Whether an identify's `user_hash` proves the site's server vouches for `email`.
    False without a secret or a hash (an unverified identify); raises InvalidInput for a
    hash that does not match, so that a wrong server-side signature shows at once."""
    if not site.identity_secret or user_hash is None:
        return False
    if not isinstance(user_hash, str) or not hmac.compare_digest(
            identity_hash(site.identity_secret, email).encode(), user_hash.encode()):
        raise InvalidInput(_("user_hash does not match this email (HMAC-SHA256 of the "
                           "lower-cased email with the site's identity secret, in hex)."),
                           field="user_hash")
    return True


def set_identity_secret(user: User, site_id: int, *, enabled: bool) -> TrackingSite:
    """Give the site a new random identity secret (the old one stops verifying at once),
    or remove it (`enabled` False: identifies are no longer trusted). Admins only."""
    if not may_manage_secrets(user):
        raise Forbidden(_("Only an administrator may change a site's identity secret."))
    site = TrackingSite.objects.filter(pk=site_id).first()
    if site is None:
        raise NotFound(_("No such tracking site."))
    site.identity_secret = secrets.token_hex(32) if enabled else ""
    site.save(update_fields=["identity_secret"])
    return site


@dataclass
class SiteRow:
    site: TrackingSite
    snippet: str


def sites_with_snippets(base_url: str) -> list[SiteRow]:
    return [SiteRow(s, INSTALL.format(base=base_url, key=s.key))
            for s in TrackingSite.objects.all()]


@dataclass
class Stats:
    visitors: int
    identified: int
    page_views: int
    downloads: int
    outbound_clicks: int
    bot_hits: int


def stats(*, days: int) -> Stats:
    """The last `days` days of tracking (bots are never stored, so never counted here)."""
    since = clock.now() - timedelta(days=days)
    seen = Visitor.objects.filter(last_seen__gte=since, is_bot=False).aggregate(
        visitors=Count("pk"), identified=Count("lead"))
    by_type = dict(Event.objects.filter(via=Event.Via.TRACKING, occurred_at__gte=since,
                                        type__in=[EventType.PAGE_VIEW, EventType.DOWNLOAD,
                                                  EventType.OUTBOUND_CLICK])
                   .order_by().values_list("type").annotate(n=Count("pk")))
    bots = BotHitCount.objects.filter(day__gte=since.date()).aggregate(n=Sum("hits"))["n"]
    return Stats(visitors=seen["visitors"], identified=seen["identified"],
                 page_views=by_type.get(EventType.PAGE_VIEW, 0),
                 downloads=by_type.get(EventType.DOWNLOAD, 0),
                 outbound_clicks=by_type.get(EventType.OUTBOUND_CLICK, 0), bot_hits=bots or 0)
