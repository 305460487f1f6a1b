"""Known crawlers: recognised by user agent (the crawlerdetect list), never stored.

Why count instead of store: a crawler's page views are not a person's behaviour. Storing
them (flagged) would make every report, segment and score query filter them out forever,
and let a crawler that fills a form drag its history into a lead. So a bot's beacons are
dropped at the door, its Visitor row is kept with is_bot=True (so a later identify never
links it to a lead), and the number of dropped events is counted per site and day in
BotHitCount, enough to show "N bot hits filtered" on the tracking page.
"""

from __future__ import annotations

from functools import lru_cache

from django.db.models import F

from leadflow.core import clock
from leadflow.tracking.models import BotHitCount, TrackingSite


@lru_cache(maxsize=1)
def _detector():
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True for a known crawler's user agent, and for none at all (no browser sends none)."""
    if not user_agent.strip():
        return True
    return bool(_detector().isCrawler(user_agent[:1000]))


def count_bot_hits(site: TrackingSite, hits: int) -> None:
    """Add `hits` dropped bot events to today's count for `site` (one UPDATE, usually)."""
    if hits <= 0:
        return
    day = clock.now().date()
    if not BotHitCount.objects.filter(site=site, day=day).update(hits=F("hits") + hits):
        obj, created = BotHitCount.objects.get_or_create(site=site, day=day,
                                                         defaults={"hits": hits})
        if not created:
            BotHitCount.objects.filter(pk=obj.pk).update(hits=F("hits") + hits)
