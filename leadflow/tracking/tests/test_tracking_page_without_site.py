"""The /tracking/ page with no site set up: "no site" must not contradict the page views
counted beside it (demo data and the API record events without a site here)."""

import pytest

from leadflow.accounts.models import Role
from leadflow.tracking.models import Event
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


def no_site_message(client) -> str:
    page = client.get("/tracking/").content.decode()
    start = page.index('id="no-site"')
    return page[start:page.index("</p>", start)]


def test_without_traffic_it_invites_to_add_a_site(make_user, client):
    client.force_login(make_user("mia", Role.MARKETING))
    assert "No site yet" in no_site_message(client)


def test_with_page_views_it_says_where_they_come_from(make_user, client):
    record_event("page_view", visitor_id="v1", via=Event.Via.TRACKING,
                 properties={"url": "https://shop.example.com/"})
    client.force_login(make_user("mia", Role.MARKETING))
    message = no_site_message(client)
    assert "No site yet" not in message
    assert "already recorded" in message
