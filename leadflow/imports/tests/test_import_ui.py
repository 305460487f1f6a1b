"""The import pages: upload, mapping (with saved mappings and preview), run, result with
the error report; admins and marketing only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadflow.accounts.models import Role
from leadflow.imports.models import ImportJob, ImportMapping
from leadflow.imports.services import save_mapping
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db
FILE = "E-mail,Prénom,Ville,Notes\nana@example.com,Ana,Lyon,vip\n=cmd,Bad,,\n"


@pytest.fixture
def marketer(client, make_user):
    user = make_user("mia", Role.MARKETING)
    client.force_login(user)
    return user


def _upload(client, text=FILE, name="leads.csv"):
    return client.post("/imports/", {"file": SimpleUploadedFile(name, text.encode())})


def test_upload_leads_to_the_mapping_screen_prefilled_from_the_header(client, marketer):
    resp = _upload(client)
    job = ImportJob.objects.get()
    assert resp.url == f"/imports/{job.pk}/map/"

    page = client.get(resp.url).content.decode()

    assert "ana@example.com" in page  # sample values
    assert '<option value="email" selected>' in page
    assert '<option value="notes" selected>' in page  # a note on the timeline


def test_preview_then_run_then_result_and_error_report(client, marketer):
    job_url = _upload(client).url
    choice = {"to_0": "email", "to_1": "first_name", "to_2": "city", "to_3": "custom.new",
              "values_2": "Lyon=Lyon 1er", "placeholders": "Select, -"}

    preview = client.post(job_url, {**choice, "action": "preview"}).content.decode()
    assert "Lyon 1er" in preview and "rejected" in preview
    assert not Lead.objects.exists()

    result = client.post(job_url, {**choice, "action": "run", "save_as": "Salon"})
    job = ImportJob.objects.get()
    assert result.url == f"/imports/{job.pk}/"
    assert (job.status, job.created, job.rejected) == ("done", 1, 1)
    lead = Lead.objects.get()
    assert (lead.city, lead.custom) == ("Lyon 1er", {"notes": "vip"})
    assert ImportMapping.objects.get().name == "Salon"
    assert "Download the error report" in client.get(result.url).content.decode()
    report = client.get(f"/imports/{job.pk}/errors.csv").content.decode()
    assert "'=cmd" in report
    assert str(job.original_name) in client.get("/imports/").content.decode()


def test_a_saved_mapping_prefills_the_mapping_screen(client, marketer):
    saved = save_mapping("Salon", {"columns": {"E-mail": "email", "Notes": "title"}},
                         user=marketer)
    job_url = _upload(client).url

    page = client.get(job_url, {"mapping": saved.pk}).content.decode()

    assert '<option value="title" selected>' in page


def test_a_bad_value_map_is_shown_on_the_page(client, marketer):
    job_url = _upload(client).url

    resp = client.post(job_url, {"to_0": "email", "values_0": "no arrow", "action": "run"})

    assert resp.status_code == 422
    assert "write value maps as from=to" in resp.content.decode()
    assert not Lead.objects.exists()


def test_reps_get_403(client, make_user):
    client.force_login(make_user("rita", Role.SALES_REP))

    assert client.get("/imports/").status_code == 403
    assert _upload(client).status_code == 403
    assert not ImportJob.objects.exists()


def test_nav_shows_import_to_marketing_only(client, marketer, make_user):
    assert 'href="/imports/"' in client.get("/leads/").content.decode()

    client.force_login(make_user("rita", Role.SALES_REP))
    assert 'href="/imports/"' not in client.get("/leads/").content.decode()


def test_the_shipped_x_education_mapping_can_be_applied_and_run(client, marketer):
    job_url = _upload(client, "Prospect ID,Lead Origin,Converted,Tags\n"
                              "p-1,API,1,Ringing\np-2,Lead Import,0,Select\n").url

    page = client.get(job_url, {"mapping": "x_education"}).content.decode()
    assert '<option value="outcome" selected>' in page
    assert "1=won; 0=lost" in page

    client.post(job_url, {"to_0": "external_id", "to_1": "channel", "to_2": "outcome",
                          "to_3": "custom.tags", "values_1": "API=api; Lead Import=import",
                          "values_2": "1=won; 0=lost", "placeholders": "Select",
                          "action": "run"})

    p1 = Lead.objects.get(external_id="p-1")
    assert (p1.channel, p1.stage, p1.custom) == (
        "api", "customer", {"lead_origin": "API", "tags": "Ringing"})
    assert Lead.objects.get(external_id="p-2").stage == "lost"


def test_a_large_file_runs_in_the_background_and_the_page_says_so(client, marketer,
                                                                  monkeypatch):
    from leadflow.imports import services

    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)
    job_url = _upload(client).url

    result = client.post(job_url, {"to_0": "email", "action": "run"})

    job = ImportJob.objects.get()
    assert job.status == "queued"  # enqueued after the request's commit
    assert "running in the background" in client.get(result.url).content.decode()
    assert services.run_job(job.pk) == "done"
    assert Lead.objects.get().email == "ana@example.com"
