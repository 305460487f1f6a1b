"""The demo's people write their stage reasons in English, as typed data would be; a French
reader sees them in French, on the lead page and its timeline."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import translation

from leadflow.leads.labels import reason_label
from leadflow.lifecycle.models import StageChange
from leadflow.server import demo_reasons
from leadflow.server.demo import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_mail_server(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def test_every_reason_the_demo_writes_reads_in_french():
    english = [demo_reasons.NOT_A_TARGET, demo_reasons.CONTACT_DATA_INCORRECT,
               demo_reasons.AGED, demo_reasons.ACCEPTED, demo_reasons.QUALIFIED,
               demo_reasons.NOT_NOW, demo_reasons.PROPOSAL, demo_reasons.SIGNED,
               *demo_reasons.LOST,
               *(demo_reasons.REJECTED_BY_SALES.format(r) for r in demo_reasons.REJECTED)]
    with translation.override("fr"):
        shown = {reason: reason_label(reason) for reason in english}
    assert [reason for reason, words in shown.items() if words == reason] == []
    assert shown["Accepted by sales"] == "Accepté par les ventes"
    assert shown["Rejected by sales: Not the decision maker yet"] == (
        "Refusé par les ventes : Pas encore le décideur")
    with translation.override("en"):
        assert reason_label("Proposal sent") == "Proposal sent"


def test_a_demo_lead_page_and_form_read_in_french(client, admin_user):
    load_demo(leads=80)
    change = StageChange.objects.filter(reason=demo_reasons.ACCEPTED).first()
    assert change is not None
    client.force_login(admin_user)
    page = client.get(reverse("leads:detail", args=[change.lead_id]),
                      headers={"Accept-Language": "fr"})
    body = html.unescape(page.content.decode())
    assert "Accepté par les ventes" in body
    assert "Accepted by sales" not in body
    form = html.unescape(client.get("/f/newsletter/", headers={"Accept-Language": "fr"})
                         .content.decode())
    assert "Recevez la newsletter Leadflow" in form
