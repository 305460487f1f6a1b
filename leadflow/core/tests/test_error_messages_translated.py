"""An expected error reaches a French reader in French, on the pages and in the API; and no
error message in the code is left as a plain (untranslatable) English literal."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead
from leadflow.leads.services import upsert_lead

FR = {"Accept-Language": "fr"}
# Every class whose message a person reads (ConfigError is operator-facing: English).
ERROR_CLASSES = {"LeadflowError", "InvalidInput", "Unauthorized", "NotFound", "Forbidden",
                 "Conflict", "Rejected", "TooLarge", "TooManyRequests"}


@pytest.fixture
def rep(make_user):
    return make_user("rita")


@pytest.fixture
def lead(rep) -> Lead:
    lead, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana"}, route=False)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    return lead


@pytest.mark.django_db
def test_the_lead_edit_page_shows_a_bad_email_in_french(client, lead, rep):
    client.force_login(rep)
    response = client.post(reverse("leads:edit", args=[lead.pk]),
                           {"email": "nope", "first_name": "Ana"}, headers=FR)
    assert response.status_code == 422
    body = response.content.decode()
    assert "pas une adresse e-mail valide" in body
    assert "is not a valid email address" not in body


@pytest.mark.django_db
def test_the_lead_edit_page_stays_english_for_an_english_reader(client, lead, rep):
    client.force_login(rep)
    response = client.post(reverse("leads:edit", args=[lead.pk]),
                           {"email": "nope", "first_name": "Ana"},
                           headers={"Accept-Language": "en"})
    assert "is not a valid email address" in response.content.decode()


@pytest.mark.django_db
def test_the_api_answers_a_french_reader_in_french(api_for, lead, rep):
    api = api_for(rep)
    response = api.client.patch(f"/api/v1/leads/{lead.pk}", json.dumps({"email": "nope"}),
                                content_type="application/json", headers=FR, **api.auth)
    assert response.status_code == 422, response.content
    assert response.json()["message"] == "'nope' n'est pas une adresse e-mail valide."
    assert response.json()["field"] == "email"


@pytest.mark.django_db
def test_the_api_names_a_missing_lead_in_french(api_for, rep):
    api = api_for(rep)
    response = api.client.patch("/api/v1/leads/999999", json.dumps({"title": "x"}),
                                content_type="application/json", headers=FR, **api.auth)
    assert response.status_code == 404
    assert response.json()["message"] == (
        "Aucun lead n° 999999 (ou vous ne pouvez pas le voir).")


@pytest.mark.django_db
def test_an_empty_import_file_is_refused_in_french(client, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(make_user("mia", Role.MARKETING))
    response = client.post("/imports/", {"file": SimpleUploadedFile("leads.csv", b"")},
                           headers=FR)
    body = response.content.decode()
    assert "Le fichier est vide" in body
    assert "The file is empty" not in body


def _is_translated(node: ast.expr) -> bool:
    """False when `node` is English text written right here: a string literal, an f-string,
    or one built from them (`+`, `%` or `.format` on a literal). A call to a translation
    function (then `%` its values), a variable or a helper's answer is a message that went
    through gettext where it was written."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return False
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Call):
            return _is_translated(node.left)
        return _is_translated(node.left) and _is_translated(node.right)
    if isinstance(node, ast.IfExp):
        return _is_translated(node.body) and _is_translated(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _is_translated(node.func.value)
    return True


def _untranslated_errors() -> list[str]:
    found = []
    root = Path(settings.BASE_DIR)
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ERROR_CLASSES and not _is_translated(node.args[0]):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_no_error_message_is_a_plain_literal():
    assert _untranslated_errors() == []


@pytest.mark.parametrize(("source", "translated"), [
    ('InvalidInput("Plain.")', False),
    ('InvalidInput(f"No lead #{pk}.")', False),
    ('InvalidInput("No lead #%s." % pk)', False),
    ('InvalidInput("No lead #{}.".format(pk))', False),
    ('InvalidInput(_("Plain."))', True),
    ('InvalidInput(_("No lead #%(id)s.") % {"id": pk})', True),
    ('InvalidInput(refused)', True),
])
def test_the_check_tells_a_literal_from_a_translated_message(source, translated):
    call = ast.parse(source, mode="eval").body
    assert isinstance(call, ast.Call)
    assert _is_translated(call.args[0]) is translated
