"""Codes Leadflow stores (a source `form:<slug>`, a consent purpose, a channel, the reasons
it writes itself) read in the reader's language on the pages, never raw."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from leadflow.capture.models import Form
from leadflow.leads.labels import reason_label, source_label
from leadflow.leads.models import Category, Lead
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.lifecycle.models import StageChange, StageThreshold
from leadflow.routing.services import assign_lead
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.models import EventType
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db
FRENCH = {"Accept-Language": "fr"}


@pytest.fixture
def lead(admin_user) -> Lead:
    Form.objects.create(name="Demande de démo", slug="demo-request", title="Demo")
    created, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana",
                              "channel": "paid_search", "source": "form:demo-request"},
                             route=False)
    return created


def _page(client, user, lead, **headers) -> str:
    client.force_login(user)
    return client.get(reverse("leads:detail", args=[lead.pk]), headers=headers).content.decode()


def test_a_form_source_reads_as_the_form_name_in_both_languages(client, admin_user, lead):
    english = _page(client, admin_user, lead)
    assert "Form: Demande de démo" in english
    french = _page(client, admin_user, lead, **FRENCH)
    assert "Formulaire : Demande de démo" in french
    assert "form:demo-request" not in french
    listing = client.get(reverse("leads:list"), headers=FRENCH).content.decode()
    assert "Formulaire : Demande de démo" in listing and ">form:demo-request<" not in listing


def test_a_source_of_a_deleted_form_or_of_a_person_shows_as_stored():
    with translation.override("en"):
        assert source_label("form:gone") == "Form: gone"
        assert source_label("trade show") == "trade show"


def test_the_consent_ledger_names_purpose_and_method(client, admin_user, lead):
    record_consent(lead, granted=True, method="form:demo-request", text="OK")
    record_consent(lead, granted=True, method="double opt-in")
    french = _page(client, admin_user, lead, **FRENCH)
    assert "E-mail marketing" in french and "marketing_email" not in french
    assert "Double opt-in (confirmation par e-mail)" in french


def test_the_channel_of_a_touch_is_a_word(client, admin_user, lead):
    french = _page(client, admin_user, lead, **FRENCH)
    assert "paid_search" not in french


def test_a_stage_moved_by_the_score_says_why_in_french(client, admin_user, lead):
    StageThreshold.objects.create(stage="mql", min_score=15)
    ScoreRule.objects.create(name="Demo", event_type="demo_requested", points=20,
                             category=Category.INTEREST)
    record_event("demo_requested", lead=lead)
    change = StageChange.objects.get(lead=lead, to_stage="mql")
    assert change.reason == "score 20 reached the MQL threshold (15)"  # stored in English
    french = _page(client, admin_user, lead, **FRENCH)
    assert "le score 20 a atteint le seuil MQL (15)" in french
    assert change.reason not in french


def test_reasons_of_routing_and_campaigns_on_the_timeline_in_french(client, admin_user,
                                                                    lead):
    assign_lead(lead, admin_user, reason="round-robin in North")
    record_event(EventType.CAMPAIGN_LEFT, lead=lead,
                 properties={"campaign_id": 1, "reason": "completed", "status": "completed"})
    french = _page(client, admin_user, lead, **FRENCH)
    assert "tour de rôle dans l&#x27;équipe North" in french
    assert "toutes les étapes terminées" in french
    assert ">completed<" not in french


def test_a_reason_typed_by_a_person_is_shown_as_typed():
    assert reason_label("Signed the annual plan") == "Signed the annual plan"
    assert reason_label("") == ""
