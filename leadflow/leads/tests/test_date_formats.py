"""Dates read one way per language, in the reader's time zone: the locale's short format
on every page, ISO 8601 only inside machine-readable attributes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.leads.services import record_consent, upsert_lead

pytestmark = pytest.mark.django_db
CREATED = datetime(2026, 3, 14, 22, 30, tzinfo=UTC)


@pytest.fixture
def lead(db):
    with clock.travel(CREATED):
        lead, _ = upsert_lead({"email": "ana@example.com", "first_name": "Ana"}, route=False)
        record_consent(lead, granted=True, method="form")
    return lead


def shown_times(body: str) -> list[str]:
    return re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", body)


def test_french_pages_use_the_french_short_format_in_the_users_zone(client, make_user, lead):
    user = make_user("paul", Role.ADMIN, time_zone="Europe/Paris")
    client.force_login(user)
    body = client.get(reverse("leads:detail", args=[lead.pk]),
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    times = shown_times(body)
    assert times and set(times) == {"14/03/2026 23:30"}  # 22:30 UTC is 23:30 in Paris
    assert 'datetime="2026-03-14T23:30:00+01:00"' in body


def test_english_pages_use_the_english_short_format(client, make_user, lead):
    client.force_login(make_user("tokyo", Role.ADMIN, time_zone="Asia/Tokyo"))
    body = client.get(reverse("leads:detail", args=[lead.pk]),
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert set(shown_times(body)) == {"03/15/2026 7:30 a.m."}


def test_no_template_spells_a_date_format_of_its_own():
    from pathlib import Path

    import leadflow

    root = Path(leadflow.__file__).parent
    for path in root.rglob("templates/**/*.html"):
        for fmt in re.findall(r"\|date:[\"']([^\"']+)[\"']", path.read_text()):
            assert fmt in ("SHORT_DATETIME_FORMAT", "SHORT_DATE_FORMAT", "c", "Y-m-d"), (
                path, fmt)
