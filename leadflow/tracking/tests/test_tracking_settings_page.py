"""The /tracking/ page: sites, their install snippet, the last 30 days."""

import pytest

from leadflow.accounts.models import Role
from leadflow.tracking.models import TrackingSite

pytestmark = pytest.mark.django_db


def test_marketing_adds_a_site_and_gets_its_snippet(make_user, client):
    client.force_login(make_user("mia", Role.MARKETING))
    r = client.post("/tracking/", {"name": "Shop",
                                   "domains": "https://shop.example.com/, example.org"})
    assert r.status_code == 302

    site = TrackingSite.objects.get()
    assert site.domains() == ["shop.example.com", "example.org"]
    page = client.get("/tracking/").content.decode()
    assert f'data-site="{site.key}"' in page.replace("&quot;", '"')
    assert "/t/lf.js" in page and "/t/p.gif?s=" in page


def test_a_site_without_domains_is_refused_with_a_message(make_user, client):
    client.force_login(make_user("mia", Role.MARKETING))
    r = client.post("/tracking/", {"name": "Shop", "domains": ""})
    assert r.status_code == 422
    assert "at least one domain" in r.content.decode()
    assert not TrackingSite.objects.exists()


def test_a_sales_rep_may_not_manage_tracking(make_user, client):
    client.force_login(make_user("rita", Role.SALES_REP))
    assert client.get("/tracking/").status_code == 403
    assert client.post("/tracking/", {"name": "x", "domains": "x.org"}).status_code == 403
    assert not TrackingSite.objects.exists()


def test_the_page_needs_a_sign_in(client):
    assert client.get("/tracking/").status_code == 302
