"""The `purchase` event: revenue sent by the customer's server (a token), never by a
page; it reads as what was bought on the timeline."""

import pytest
from django.test import Client

from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db

PURCHASE = {"value": 1299.0, "currency": "EUR", "product": "Lumen 55 OLED",
            "product_range": "Televisions", "order_id": "A-1001"}


def test_the_api_records_a_purchase_with_its_properties(api, make_lead):
    lead = make_lead("ana@example.com")

    r = api.post("/events", {"events": [{"type": "purchase", "lead_id": lead.pk,
                                         "properties": PURCHASE}]})

    assert r.json()["created"] == 1
    assert lead.events.get(type="purchase").properties == PURCHASE


def test_a_page_may_not_forge_a_purchase(beacon):
    r = beacon([{"type": "purchase", "key": "p1", "props": PURCHASE}])

    assert (r.json()["accepted"], r.json()["rejected"]) == (0, 1)
    assert not Event.objects.filter(type="purchase").exists()


def test_the_timeline_shows_what_was_bought_for_how_much(api, make_lead, admin_user):
    lead = make_lead("ana@example.com")
    api.post("/events", {"events": [{"type": "purchase", "lead_id": lead.pk,
                                     "properties": PURCHASE}]})
    client = Client()
    client.force_login(admin_user)

    page = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "Bought Lumen 55 OLED" in page
    assert "1,299.00 EUR · Televisions · order A-1001" in page
