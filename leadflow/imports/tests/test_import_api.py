"""The imports API: multipart upload with a saved or JSON mapping, dry run, job status,
error report; admins and marketing only."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.accounts.services import create_token
from leadflow.imports import services
from leadflow.imports.models import ImportJob
from leadflow.imports.services import save_mapping
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


def _post(user, data):
    token = create_token(user)[1]
    return Client().post("/api/v1/imports", data, HTTP_AUTHORIZATION=f"Bearer {token}")


def _get(user, path):
    token = create_token(user)[1]
    return Client().get(f"/api/v1/imports{path}", HTTP_AUTHORIZATION=f"Bearer {token}")


def _file(text: str, name: str = "leads.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_small_file_is_imported_at_once_with_its_counts(admin_user):
    resp = _post(admin_user, {"file": _file("email,first_name\nana@example.com,Ana\nnope,X\n")})

    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["created"], body["rejected"]) == ("done", 1, 1)
    errors = _get(admin_user, f"/{body['id']}/errors.csv")
    assert errors.status_code == 200
    assert "'nope' is not a valid email address." in errors.content.decode()
    assert _get(admin_user, f"/{body['id']}").json()["created"] == 1


def test_saved_mapping_by_id_and_json_mapping_are_used(admin_user):
    saved = save_mapping("crm", {"columns": {"Mail": "email", "Prénom": "first_name"}},
                         user=admin_user)

    _post(admin_user, {"file": _file("Mail,Prénom\nana@example.com,Ana\n"),
                       "mapping_id": saved.pk})
    _post(admin_user, {"file": _file("Courriel\nbo@example.com\n"),
                       "mapping": json.dumps({"columns": {"Courriel": "email"}})})

    assert dict(Lead.objects.values_list("email", "first_name")) == {
        "ana@example.com": "Ana", "bo@example.com": ""}
    assert ImportJob.objects.filter(mapping=saved).count() == 1


def test_dry_run_writes_nothing(admin_user):
    resp = _post(admin_user, {"file": _file("email\nana@example.com\n"), "dry_run": "true"})

    assert (resp.json()["created"], resp.json()["dry_run"]) == (1, True)
    assert not Lead.objects.exists()


def test_large_file_answers_202_and_the_job_runs_in_the_background(
        admin_user, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)

    with django_capture_on_commit_callbacks(execute=True):
        resp = _post(admin_user, {"file": _file("email\nana@example.com\nbo@example.com\n")})

    assert resp.status_code == 202
    assert resp.json()["status"] == "queued"
    job = ImportJob.objects.get(pk=resp.json()["id"])
    # The test task backend runs the task as soon as the request commits.
    assert (job.status, job.created) == ("done", 2)
    assert services.run_job(job.pk) == "skipped"  # a second delivery does nothing


def test_bad_mapping_and_unreadable_file_are_422(admin_user):
    bad_json = _post(admin_user, {"file": _file("email\na@example.com\n"), "mapping": "{"})
    bad_target = _post(admin_user, {"file": _file("email\na@example.com\n"),
                                    "mapping": json.dumps({"columns": {"email": "shoe"}})})
    empty = _post(admin_user, {"file": _file("")})

    assert [r.status_code for r in (bad_json, bad_target, empty)] == [422, 422, 422]
    assert bad_json.json()["field"] == "mapping"


def test_reps_may_not_import(make_user):
    rep = make_user("rita", Role.SALES_REP)

    assert _post(rep, {"file": _file("email\na@example.com\n")}).status_code == 403
    assert not Lead.objects.exists()


def test_marketing_may_import_and_unknown_job_is_404(make_user):
    marketer = make_user("mia", Role.MARKETING)

    assert _post(marketer, {"file": _file("email\na@example.com\n")}).status_code == 200
    assert _get(marketer, "/999999").status_code == 404
