"""Erasing a person tells subscribers of `lead.erased` (the ids only) and deletes the
deliveries (payloads, logs) about them."""

from __future__ import annotations

import json

from leadflow.leads.privacy import erase_lead, erase_leads
from leadflow.leads.scan import find_text
from leadflow.webhooks.delivery import run_due
from leadflow.webhooks.models import Delivery


def test_erasure_deletes_the_persons_deliveries_and_sends_the_ids_only(
        db, receiver, subscribe, make_lead, admin_user):
    subscribe(receiver.url, events=["lead.created", "lead.erased"])
    subscribe(receiver.url, events=["lead.won"])  # not told: it did not ask
    lead = make_lead("zebulon.q@example.org", first_name="Zebulon", external_id="crm-77")
    other = make_lead("bo@example.org")
    run_due()
    assert find_text(["zebulon.q@example.org"])
    erase_lead(lead, actor=admin_user)
    assert find_text(["zebulon.q@example.org", "Zebulon"]) == []
    assert not Delivery.objects.filter(lead=lead).exists()
    assert Delivery.objects.filter(lead=other).exists()
    run_due()
    got = json.loads(receiver.requests[-1].body)
    assert got["type"] == "lead.erased"
    assert got["data"] == {"lead": {"id": lead.pk, "external_id": "crm-77"}}


def test_erasing_many_queues_one_message_per_person_in_one_insert(
        db, subscribe, make_lead, admin_user, django_assert_max_num_queries):
    subscribe("https://crm.example.com/hook", events=["lead.erased"])
    leads = [make_lead(f"p{i}@example.org") for i in range(30)]
    erase_leads([lead.pk for lead in leads], actor=admin_user)
    told = Delivery.objects.filter(kind="lead.erased")
    assert sorted(d.payload["data"]["lead"]["id"] for d in told) == sorted(
        lead.pk for lead in leads)
