"""Shared by the website tracking tests: a site, a browser-like beacon sender."""

from __future__ import annotations

import itertools
import json

import pytest
from django.test import Client

from leadflow.tracking.models import TrackingSite

ORIGIN = "https://shop.example.com"
BROWSER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
VID = "vid_AAAAAAAAAAAAAAAAAAAA"

_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    """The per-IP counters live in Django's cache: each test starts from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(db) -> TrackingSite:
    return TrackingSite.objects.create(name="Shop", key="lf_shopkey",
                                       allowed_domains="example.com")


def page_view(url: str = f"{ORIGIN}/pricing", key: str | None = None, **props) -> dict:
    return {"type": "page_view", "key": key or f"k{next(_keys)}",
            "props": {"url": url, "title": "Pricing", **props}}


@pytest.fixture
def beacon(site):
    """POST a batch to /t/collect the way lf.js does (text/plain JSON, Origin header)."""
    def send(events: list, *, vid: str = VID, origin: str = ORIGIN, ua: str = BROWSER_UA,
             client: Client | None = None, extra: dict | None = None, **headers):
        body = {"site": site.key, "vid": vid, "consent": True, "events": events,
                **(extra or {})}
        return (client or Client()).post("/t/collect", json.dumps(body),
                                         content_type="text/plain;charset=UTF-8",
                                         headers={"Origin": origin, "User-Agent": ua,
                                                  **headers})
    return send
