"""GET /t/p.gif: the no-JavaScript fallback records a page view and is always a GIF."""

import pytest
from django.test import Client

from leadflow.tracking.models import Event
from leadflow.tracking.tests.conftest import BROWSER_UA, ORIGIN

pytestmark = pytest.mark.django_db


def _hit(query: str, referer: str = f"{ORIGIN}/pricing", ua: str = BROWSER_UA, **headers):
    return Client().get(f"/t/p.gif?{query}", headers={"Referer": referer, "User-Agent": ua,
                                                       **headers})


def test_the_pixel_records_a_page_view(site):
    r = _hit(f"s={site.key}&u={ORIGIN}/pricing%3Futm_source%3Dads&t=Pricing")

    assert r.status_code == 200
    assert r["Content-Type"] == "image/gif" and r.content.startswith(b"GIF89a")
    assert r["Cache-Control"] == "no-store"
    view = Event.objects.get(type="page_view")
    assert view.properties["url"] == f"{ORIGIN}/pricing?utm_source=ads"
    assert view.properties["utm_source"] == "ads"
    assert view.properties["pixel"] is True
    assert view.lead_id is None and view.via == "tracking"


def test_without_a_url_the_pixel_uses_the_referer(site):
    _hit(f"s={site.key}")
    assert Event.objects.get(type="page_view").properties["url"] == f"{ORIGIN}/pricing"


def test_a_visitor_id_in_the_pixel_url_ties_the_view_to_the_visitor(site):
    _hit(f"s={site.key}&v=vid_PIXELPIXELPIXEL")
    assert Event.objects.get(type="page_view").visitor_id == "vid_PIXELPIXELPIXEL"


def test_the_pixel_from_a_foreign_site_stores_nothing_but_answers_a_gif(site):
    r = _hit(f"s={site.key}", referer="https://other.org/")
    assert r.status_code == 200 and r.content.startswith(b"GIF89a")
    assert not Event.objects.exists()


def test_an_unknown_site_key_stores_nothing(site):
    assert _hit("s=lf_unknown").status_code == 200
    assert not Event.objects.exists()


def test_the_pixel_honours_do_not_track(site):
    _hit(f"s={site.key}", DNT="1")
    assert not Event.objects.exists()
