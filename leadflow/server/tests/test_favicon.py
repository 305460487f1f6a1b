"""The favicon: every page names it, and /favicon.ico (asked by browsers whatever the page
says) leads to it instead of a 404."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_svg_icon():
    client = Client()
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("/static/core/favicon.svg")
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content)


def test_app_and_public_pages_link_the_icon(admin_user):
    icon_link = '<link rel="icon" href="/static/core/favicon.svg" type="image/svg+xml">'
    client = Client()
    assert icon_link in client.get("/login/").content.decode()  # public_base.html
    client.force_login(admin_user)
    assert icon_link in client.get("/leads/").content.decode()  # base.html
