"""What the snippet (and the pixel) send: checked at the door, then stored as events.

A beacon is a JSON object sent as text/plain (so sendBeacon needs no CORS preflight):

    {"site": KEY, "vid": VISITOR_ID, "consent": true,
     "events": [{"type": "page_view", "key": CLIENT_KEY, "ts": EPOCH_MS,
                 "props": {"url": ..., "title": ..., "referrer": ...}}, ...]}

Two item types are instructions, not events: `identify` (props: email, names..., and
`user_hash` when the site verifies identity) and `lf_id` (props.token: the signed lead id a
tracked email click put in the URL). They run after the batch's events are stored, so
those are merged too. Trust (docs/tracking-trust.md): a page may send only the event types
the registry (tracking.events) lets pages send; an unsigned identify of an existing lead
fills its empty fields only and leaves the visitor's events anonymous, claimed by that
lead, until a signed identify, a tracked email click or a double opt-in verifies it.

CORS: only the request's Origin, and only when it is one of the site's domains, on
success and error alike.

A bad item is rejected on its own (counted, with a message); a bad batch (unknown site,
foreign origin, malformed JSON) is refused as a whole with a 4xx, never a 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, LeadflowError, contains_nul
from leadflow.core.params import text
from leadflow.tracking import bots, sites, visitors
from leadflow.tracking.events import Recorder, refusal
from leadflow.tracking.models import Event, EventType, TrackingSite, Visitor
from leadflow.tracking.services import MAX_PROPERTIES_BYTES, NewEvent, record_events

MAX_BODY_BYTES = 64_000
MAX_ITEMS = 100
MAX_KEY = 40
MAX_DEPTH = 8
# Timestamps from the browser are trusted within this window (a beacon re-sent after a
# page was left open for days, or a wrong device clock, gets the arrival time instead).
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=5)
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
IDENTIFY_FIELDS = ("email", "first_name", "last_name", "phone", "title", "company_name",
                   "country", "city", "language")


class TooLarge(LeadflowError):
    status = 413


class TooManyRequests(LeadflowError):
    status = 429


@dataclass
class Beacon:
    """One request, as the view read it."""

    body: bytes
    origin: str = ""      # Origin header, else Referer
    origin_header: str = ""  # the Origin header alone: what a CORS grant may name
    user_agent: str = ""
    ip: str = ""
    do_not_track: bool = False  # DNT: 1 or Sec-GPC: 1


@dataclass
class CollectResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    identified: bool = False
    ignored: str = ""  # why nothing was stored: "dnt", "bot", "no consent"
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {"accepted": self.accepted, "duplicates": self.duplicates,
               "rejected": self.rejected, "identified": self.identified,
               "errors": self.errors}
        if self.ignored:
            out["ignored"] = self.ignored
        return out


def check_rate(ip: str) -> None:
    """At most LEADFLOW_TRACKING_RATE_LIMIT requests per IP per minute (Django's cache:
    per process by default, shared by all when LEADFLOW_CACHE_URL names Redis)."""
    limit = settings.LEADFLOW_TRACKING_RATE_LIMIT
    if not limit:
        return
    key = f"lf:track:{ip}:{int(clock.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    if count > limit:
        raise TooManyRequests(_("Too many tracking requests from this address; slow down."))


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def site_allows(site: TrackingSite, origin: str) -> bool:
    host = host_of(origin)
    return bool(host) and any(host == d or host.endswith("." + d) for d in site.domains())


def find_site(key: object, origin: str) -> TrackingSite:
    """The site named by `key`, if the request comes from one of its domains."""
    if not isinstance(key, str) or not key or len(key) > 40:
        raise InvalidInput(_("Missing or malformed site key."), field="site")
    site = TrackingSite.objects.filter(key=key).first()
    if site is None:
        raise Forbidden(_("Unknown site key."), field="site")
    if not site_allows(site, origin):
        raise Forbidden(_("This site key does not accept events from this origin."),
                        field="origin")
    return site


def allowed_origin(origin: str, site: TrackingSite | None = None) -> str:
    """`origin` if it is one of `site`'s domains (of any site's, without one), else "":
    the only Origin a CORS answer may grant, with credentials."""
    if not origin:
        return ""
    candidates = [site] if site is not None else TrackingSite.objects.all()
    return origin if any(site_allows(s, origin) for s in candidates) else ""


def collect(beacon: Beacon, grant: list[str] | None = None) -> CollectResult:
    """Store a beacon's events for its visitor (see the module docstring). Raises
    InvalidInput, Forbidden, TooLarge or TooManyRequests for a batch refused as a whole.
    Once the site is known, the CORS grant (allowed_origin) is appended to `grant`, so
    the caller has it for an error too."""
    check_rate(beacon.ip)
    if len(beacon.body) > MAX_BODY_BYTES:
        raise TooLarge(_("A beacon may be at most %(limit)s bytes.")
                       % {"limit": MAX_BODY_BYTES})
    if beacon.do_not_track and settings.LEADFLOW_TRACKING_RESPECT_DNT:
        return CollectResult(ignored="dnt")
    try:
        data = json.loads(beacon.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput(_("The body must be a JSON object.")) from None
    if not isinstance(data, dict):
        raise InvalidInput(_("The body must be a JSON object."))
    site = find_site(data.get("site"), beacon.origin)
    if grant is not None:
        grant.append(allowed_origin(beacon.origin_header, site))
    result = CollectResult()
    if settings.LEADFLOW_TRACKING_CONSENT_MODE and data.get("consent") is not True:
        result.ignored = "no consent"
        return result
    vid = data.get("vid")
    if not visitors.valid_visitor_id(vid):
        raise InvalidInput(_("vid must be 8 to 64 letters, digits, - or _."), field="vid")
    items = data.get("events")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise InvalidInput(_("events must be a list of at most %(limit)s items.")
                           % {"limit": MAX_ITEMS},
                           field="events")
    if bots.is_bot(beacon.user_agent):
        _mark_bot(vid, beacon.user_agent, site)
        bots.count_bot_hits(site, len(items))
        result.ignored = "bot"
        return result
    visitor = _seen(vid, beacon.user_agent, site)
    if visitor.is_bot:
        result.ignored = "bot"
        return result

    events: list[NewEvent] = []
    instructions: list[tuple[int, str, dict[str, Any]]] = []
    for index, item in enumerate(items):
        try:
            kind, new = _parse_item(item, vid, visitor.lead_id)
        except InvalidInput as exc:
            result.rejected += 1
            result.errors.append({"index": index, "message": exc.message})
            continue
        if isinstance(new, NewEvent):
            events.append(new)
        else:
            instructions.append((index, kind, new))
    if events:
        for _event, created in record_events(events, via=Event.Via.TRACKING):
            if created:
                result.accepted += 1
            else:
                result.duplicates += 1
    for index, kind, props in instructions:
        try:
            _run_instruction(kind, props, vid, site)
            result.identified = True
        except InvalidInput as exc:
            result.rejected += 1
            result.errors.append({"index": index, "message": exc.message})
    if visitor.lead_id is None and events and not result.identified:
        # Identified by another request (a form submit) while this one was on its way:
        # merge what was just stored as anonymous.
        lead_id = visitors.lead_for_visitor(vid)
        if lead_id is not None:
            lead = visitors.lead_model().objects.filter(pk=lead_id).first()
            if lead is not None:
                visitors.identify(vid, lead)
    return result


def _seen(vid: str, user_agent: str, site: TrackingSite) -> Visitor:
    visitor = visitors.get_or_create_visitor(vid, user_agent=user_agent, site_id=site.pk)
    Visitor.objects.filter(pk=visitor.pk).update(last_seen=clock.now())
    return visitor


def _mark_bot(vid: object, user_agent: str, site: TrackingSite) -> None:
    if visitors.valid_visitor_id(vid):
        visitor = visitors.get_or_create_visitor(vid, user_agent=user_agent, is_bot=True,
                                                 site_id=site.pk)
        if not visitor.is_bot:
            Visitor.objects.filter(pk=visitor.pk).update(is_bot=True, lead=None)


def _parse_item(item: object, vid: str,
                lead_id: int | None) -> tuple[str, NewEvent | dict[str, Any]]:
    if not isinstance(item, dict):
        raise InvalidInput(_("An event must be an object."))
    kind = item.get("type")
    if not isinstance(kind, str) or not 1 <= len(kind) <= 60 or not kind.isprintable():
        raise InvalidInput(_("type must be 1 to 60 printable characters."), field="type")
    props = item.get("props", {})
    if not isinstance(props, dict):
        raise InvalidInput(_("props must be an object."), field="props")
    if contains_nul(props) or _too_big(props):
        raise InvalidInput(_("props are too large or hold NUL characters."), field="props")
    if kind in ("identify", "lf_id"):
        return kind, props
    if refused := refusal(kind, Recorder.PAGE):
        raise InvalidInput(refused, field="type")
    key = item.get("key")
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY or contains_nul(key):
        raise InvalidInput(_("key must be 1 to %(limit)s characters.")
                           % {"limit": MAX_KEY}, field="key")
    if kind == EventType.PAGE_VIEW:
        props = _page_view(props)
    # Namespaced by visitor: a browser cannot collide with another visitor's keys, nor
    # with the keys Leadflow uses itself ("email_opened:12").
    return kind, NewEvent(type=kind, lead_id=lead_id, visitor_id=vid, properties=props,
                          occurred_at=_when(item.get("ts")),
                          idempotency_key=f"t:{vid}:{key}")


def _too_big(props: dict[str, Any]) -> bool:
    """Over half the pipeline's size limit, or nested deeper than MAX_DEPTH."""
    stack: list[tuple[Any, int]] = [(props, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return len(json.dumps(props)) > MAX_PROPERTIES_BYTES // 2


def _page_view(props: dict[str, Any]) -> dict[str, Any]:
    url = props.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInput(_("A page view needs the page's http(s) url."), field="url")
    out = {k: text(props[k], k)[:1000] for k in ("url", "title", "referrer") if props.get(k)}
    try:
        query = dict(parse_qsl(urlsplit(url).query))
    except ValueError:
        query = {}
    out.update({k: query[k][:150] for k in UTM if query.get(k)})
    return out


def _when(ts: object) -> datetime | None:
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return None
    try:
        when = datetime.fromtimestamp(ts / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    now = clock.now()
    return when if now - MAX_AGE <= when <= now + MAX_AHEAD else None


def _run_instruction(kind: str, props: dict[str, Any], vid: str,
                     site: TrackingSite) -> None:
    if kind == "identify":
        data = {k: props[k] for k in IDENTIFY_FIELDS if isinstance(props.get(k), str)}
        if not data.get("email"):
            raise InvalidInput(_("identify needs an email."), field="email")
        verified = sites.verifies(site, data["email"], props.get("user_hash"))
        data["channel"] = "web"
        actor = Actor.public(f"tracking:{site.key}", trusted=verified)
        lead, created = visitors.identify_lead(data, via=Event.Via.TRACKING, actor=actor)
        if not (created or verified):
            # Anyone may type a known email: the visitor only claims that lead.
            visitors.claim(vid, lead, via="identify")
            return
    else:
        lead_id = visitors.read_lf_id(props.get("token"))
        found = visitors.lead_model().objects.filter(pk=lead_id).first() if lead_id else None
        if found is None:
            raise InvalidInput(_("The lf_id token is invalid or expired."), field="token")
        lead = found
    visitors.identify(vid, lead)


def pixel_hit(*, site_key: str, url: str, title: str, referrer: str, vid: str,
              origin: str, user_agent: str, ip: str, do_not_track: bool) -> bool:
    """A page view from the no-JavaScript pixel. Returns whether one was stored.

    Without JavaScript there is no first-party cookie to read: the view is tied to a
    visitor only when the page put one in the URL (`v`), otherwise it is an anonymous
    page view that counts in reports but joins no timeline. Never raises: a pixel always
    answers with its image.
    """
    try:
        check_rate(ip)
    except TooManyRequests:
        return False
    if do_not_track and settings.LEADFLOW_TRACKING_RESPECT_DNT:
        return False
    if settings.LEADFLOW_TRACKING_CONSENT_MODE:
        return False  # no consent can be given without JavaScript
    try:
        site = find_site(site_key, origin)
    except LeadflowError:
        return False
    if bots.is_bot(user_agent):
        bots.count_bot_hits(site, 1)
        return False
    if not url:
        url = origin
    try:
        props = _page_view({"url": url, "title": title, "referrer": referrer})
    except InvalidInput:
        return False
    if contains_nul(props):
        return False
    lead_id = None
    if visitors.valid_visitor_id(vid):
        visitor = _seen(vid, user_agent, site)
        if visitor.is_bot:
            return False
        lead_id = visitor.lead_id
    else:
        vid = ""
    record_events([NewEvent(type=EventType.PAGE_VIEW, lead_id=lead_id, visitor_id=vid,
                            properties={**props, "pixel": True})], via=Event.Via.TRACKING)
    return True
