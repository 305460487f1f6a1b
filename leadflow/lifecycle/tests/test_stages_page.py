"""The Stages page: each stage's name and written definition, in the reader's language,
for marketing and sales alike (seed 003); admins and marketing edit them."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import StageDefinition

pytestmark = pytest.mark.django_db


def _client(user, language="en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETING])
def test_every_signed_in_user_reads_the_definitions_in_english(make_user, role):
    page = _client(make_user("someone", role)).get("/stages/").content.decode()
    for slug in ("subscriber", "lead", "mql", "hmql", "sal", "sql", "opportunity",
                 "customer", "lost", "nurture", "disqualified"):
        assert f'id="stage-{slug}"' in page
    assert "Showed interest (an inquiry): captured, not yet qualified." in page
    assert "No budget within 12 months" in page


def test_the_definitions_read_in_french(make_user):
    page = _client(make_user("rita"), "fr").get("/stages/").content.decode()
    assert "Accepté par les ventes" in page
    assert "A manifesté un intérêt (une demande) : capté, pas encore qualifié." in page
    assert "Pas de budget dans les 12 mois" in page


def test_the_stages_page_needs_a_signed_in_user():
    assert Client().get("/stages/").status_code == 302


def test_marketing_edits_a_definition_and_sales_may_not(make_user):
    marketer, rep = make_user("mia", Role.MARKETING), make_user("rita")
    assert _client(rep).get("/stages/mql/edit").status_code == 403
    values = {"name_en": "MQL", "name_fr": "MQL", "definition_en": "Scored 15 or more.",
              "definition_fr": "Score d'au moins 15.", "position": 30, "kind": "funnel",
              "owned_by": "marketing", "is_handoff": "on", "reject_reset": "engagement"}
    assert _client(rep).post("/stages/mql/edit", values).status_code == 403

    r = _client(marketer).post("/stages/mql/edit", values)

    assert r.status_code == 302
    assert StageDefinition.objects.get(slug="mql").definition_en == "Scored 15 or more."
    assert stages.get("mql").definition_en == "Scored 15 or more."  # the cache follows
    assert "Scored 15 or more." in _client(rep).get("/stages/").content.decode()


def test_a_renamed_stage_shows_its_new_name_on_leads_and_the_edit_is_audited(
        make_user, make_lead):
    from leadflow.audit.models import AuditEntry
    from leadflow.leads.stages import Stage

    marketer = make_user("mia", Role.MARKETING)
    lead = make_lead("ana@example.com")
    type(lead).objects.filter(pk=lead.pk).update(stage=Stage.MQL, owner=marketer)
    values = {"name_en": "Marketing-ready", "name_fr": "Prêt pour les ventes",
              "definition_en": "Scored 15 or more.", "definition_fr": "Score d'au moins 15.",
              "position": 30, "kind": "funnel", "owned_by": "marketing", "is_handoff": "on",
              "reject_reset": "engagement"}

    assert _client(marketer).post("/stages/mql/edit", values).status_code == 302

    assert "Marketing-ready" in _client(marketer).get(f"/leads/{lead.pk}/").content.decode()
    assert "Marketing-ready" in _client(marketer).get("/leads/").content.decode()
    assert "Prêt pour les ventes" in _client(marketer, "fr").get(
        f"/leads/{lead.pk}/").content.decode()
    entry = AuditEntry.objects.get(object_type="lifecycle.StageDefinition")
    assert entry.actor.username == "mia"
    assert entry.changes["name_en"] == ["MQL", "Marketing-ready"]
