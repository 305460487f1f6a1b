"""Do Not Track, Global Privacy Control and consent mode: nothing is stored."""

import pytest

from leadflow.tracking.models import Event, Visitor
from leadflow.tracking.tests.conftest import page_view

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
def test_dnt_or_gpc_stores_nothing(beacon, header):
    r = beacon([page_view()], **header)
    assert r.status_code == 200
    assert r.json()["ignored"] == "dnt"
    assert not Event.objects.exists() and not Visitor.objects.exists()


def test_with_dnt_respect_turned_off_the_beacon_is_stored(beacon, settings):
    settings.LEADFLOW_TRACKING_RESPECT_DNT = False
    beacon([page_view()], DNT="1")
    assert Event.objects.count() == 1


def test_dnt_header_zero_is_no_objection(beacon):
    beacon([page_view()], DNT="0")
    assert Event.objects.count() == 1


def test_consent_mode_stores_nothing_before_consent(beacon, settings):
    settings.LEADFLOW_TRACKING_CONSENT_MODE = True
    r = beacon([page_view()], extra={"consent": False})
    assert r.json()["ignored"] == "no consent"
    assert not Event.objects.exists() and not Visitor.objects.exists()


def test_consent_mode_stores_once_consent_is_given(beacon, settings):
    settings.LEADFLOW_TRACKING_CONSENT_MODE = True
    beacon([page_view()], extra={"consent": True})
    assert Event.objects.count() == 1


def test_the_snippet_is_told_the_privacy_settings(client, settings):
    settings.LEADFLOW_TRACKING_RESPECT_DNT = False
    settings.LEADFLOW_TRACKING_CONSENT_MODE = True
    text = client.get("/t/lf.js").content.decode()
    assert 'window.__leadflowConfig={"respectDnt": false, "consentMode": true};' in text


def test_the_pixel_stores_nothing_in_consent_mode(site, settings, client):
    settings.LEADFLOW_TRACKING_CONSENT_MODE = True
    client.get(f"/t/p.gif?s={site.key}", headers={"Referer": "https://shop.example.com/"})
    assert not Event.objects.exists()
