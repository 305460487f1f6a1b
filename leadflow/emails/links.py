"""Click tracking in marketing email: each http(s) link of the HTML body is stored as an
EmailLink and replaced by /e/c/<token>, the token naming (message, link index) only.

A click records `email_clicked` once per message, link and class (a person's or a
machine's: emails.engagement), and goes on to the stored destination; when a person's
click goes to one of our tracked sites, a short-lived signed `lf_id` is added so that
lf.js can identify the visitor there (tracking.visitors).
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from leadflow.core import clock
from leadflow.core.sqlarrays import int_array, text_array
from leadflow.emails import tokens
from leadflow.emails.models import EmailLink, EmailMessage
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.emails.engagement import Hit

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


Link = tuple[int, int, str]  # (message id, index, destination): an EmailLink row


def track_links(message_id: int, body: str) -> tuple[str, list[Link]]:
    """`body` with its http(s) links replaced by tracked ones, and the links to store
    (emails.rendering stores a whole batch's with one `store_links`)."""
    found: list[Link] = []

    def replace(match: re.Match[str]) -> str:
        url = html_lib.unescape(match.group(3)).strip()
        if not url.lower().startswith(("http://", "https://")) or len(url) > 2000:
            return match.group(0)  # mailto:, anchors, template mistakes: left as they are
        found.append((message_id, len(found), url))
        tracked = url_for("emails:click", tokens.click_token(message_id, len(found) - 1))
        # The stdlib's escape: Django's checks every argument for a lazy string first.
        return f"{match.group(1)}{match.group(2)}{html_lib.escape(tracked)}{match.group(2)}"

    return _HREF.sub(replace, body), found


def store_links(links: list[Link]) -> None:
    """One INSERT for a batch's links, whatever their number (a batch of 500 newsletters
    has 5,000: built as model instances by bulk_create, they cost more than the
    rendering). A message rendered again (a retry after a crash) keeps the links stored
    the first time."""
    if not links:
        return
    table = connection.ops.quote_name(EmailLink._meta.db_table)
    columns = "(message_id, " + connection.ops.quote_name("index") + ", url)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} {columns} SELECT * FROM unnest(%s::bigint[], "  # noqa: S608
                "%s::integer[], %s::text[]) ON CONFLICT DO NOTHING",
                [int_array(m for m, _i, _u in links), int_array(i for _m, i, _u in links),
                 text_array(u for _m, _i, u in links)])
        else:
            cursor.executemany(f"INSERT INTO {table} {columns} VALUES (%s, %s, %s) "  # noqa: S608
                               "ON CONFLICT DO NOTHING", links)


_SLOT = "lf-token"


@functools.lru_cache(maxsize=32)
def _around(base_url: str, name: str) -> tuple[str, str]:
    head, _slot, tail = (base_url + reverse(name, args=[_SLOT])).partition(_SLOT)
    return head, tail


def url_for(name: str, token: str) -> str:
    """The absolute URL of the named route taking one token, e.g. `emails:click`: a
    reverse() per route and base URL, not per link (it was most of a render's time)."""
    head, tail = _around(settings.BASE_URL, name)
    return head + token + tail


@transaction.atomic
def record_click(token: str, hit: Hit | None = None) -> str | None:
    """Record the click behind a tracked link, once per message, link and class
    (emails.engagement), and return where to send the reader, or None for a bad token or
    unknown link. Only a person's click sets the message's clicked_at and carries the
    `lf_id` that identifies the visitor: a scanner's would tie its browser to the lead."""
    parsed = tokens.read_click_token(token)
    if parsed is None:
        return None
    message_id, index = parsed
    link = EmailLink.objects.filter(message_id=message_id, index=index).first()
    if link is None:
        return None
    # Locked: a scanner's simultaneous clicks on every link see each other (classify_click).
    message = (EmailMessage.objects.select_for_update(of=("self",), no_key=True)
               .select_related("lead").get(pk=message_id))
    from leadflow.emails.engagement import Hit, classify_click
    from leadflow.tracking.services import record_event

    now = clock.now()
    verdict = classify_click(hit or Hit(), message, index, now)
    _, created = record_event(EventType.EMAIL_CLICKED, lead=message.lead, via=Event.Via.EMAIL,
                              occurred_at=now,
                              idempotency_key=verdict.key(f"email_clicked:{message.pk}:{index}"),
                              properties={"message_id": message.pk, "url": link.url,
                                          "link": index, "campaign_id": message.campaign_id,
                                          **verdict.properties()})
    if not verdict.human:
        return link.url
    if created:
        EmailMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(
            clicked_at=now)
    return _with_lf_id(link.url, message.lead_id)


def _with_lf_id(url: str, lead_id: int) -> str:
    from leadflow.tracking.collect import host_of, site_allows
    from leadflow.tracking.models import TrackingSite
    from leadflow.tracking.visitors import lf_id_token

    if not host_of(url) or not any(site_allows(s, url) for s in TrackingSite.objects.all()):
        return url  # a third party's page gets no token naming our lead
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("lf_id", lf_id_token(lead_id))]
    return urlunsplit(parts._replace(query=urlencode(query)))
