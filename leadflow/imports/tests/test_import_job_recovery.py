"""Import jobs as background work: a job whose worker died is run again once its lease
runs out, by any worker's periodic tick; the page and the API show the attempts."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leadflow.accounts.services import create_token
from leadflow.core import clock, periodic, workqueue
from leadflow.imports import services
from leadflow.imports.models import ImportJob
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_job(admin_user, monkeypatch) -> ImportJob:
    """A large import, queued; its wake-up task never ran (no commit in a test)."""
    monkeypatch.setattr(services, "INLINE_MAX_BYTES", 10)
    token = create_token(admin_user)[1]
    upload = SimpleUploadedFile("leads.csv", b"email\nana@example.com\nbo@example.com\n",
                                content_type="text/csv")
    response = Client().post("/api/v1/imports", {"file": upload},
                             HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 202
    return ImportJob.objects.get(pk=response.json()["id"])


def test_a_job_killed_mid_run_is_run_again_once_its_lease_runs_out(admin_user, queued_job):
    # A worker took the job, then was killed: the job says running, nobody runs it.
    workqueue.claim(ImportJob.objects.filter(pk=queued_job.pk), limit=1,
                    lease=services.LEASE, status=ImportJob.Status.RUNNING)

    periodic.tick()
    assert ImportJob.objects.get(pk=queued_job.pk).status == ImportJob.Status.RUNNING
    clock.advance(services.LEASE + timedelta(seconds=1))
    periodic.tick()

    job = ImportJob.objects.get(pk=queued_job.pk)
    assert (job.status, job.created, job.attempts) == (ImportJob.Status.DONE, 2, 2)
    assert Lead.objects.count() == 2
    token = create_token(admin_user)[1]
    shown = Client().get(f"/api/v1/imports/{job.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (shown.json()["status"], shown.json()["attempts"]) == ("done", 2)


def test_a_queued_job_whose_wake_up_was_lost_is_run_by_the_tick(queued_job):
    assert periodic.tick() >= 1

    assert ImportJob.objects.get(pk=queued_job.pk).status == ImportJob.Status.DONE


def test_a_job_that_died_is_shown_as_retried_on_its_page(admin_user, queued_job):
    workqueue.claim(ImportJob.objects.filter(pk=queued_job.pk), limit=1,
                    lease=services.LEASE, status=ImportJob.Status.RUNNING)
    clock.advance(services.LEASE + timedelta(seconds=1))
    # A second worker takes it over (attempt 2), and is still at it.
    workqueue.claim(ImportJob.objects.filter(pk=queued_job.pk), limit=1,
                    lease=services.LEASE, status=ImportJob.Status.RUNNING)
    client = Client()
    client.force_login(admin_user)

    page = client.get(f"/imports/{queued_job.pk}/").content.decode()

    assert "Attempt 2: the last one did not finish" in page


def test_a_long_import_renews_its_lease_after_each_chunk(queued_job, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(services, "CHUNK_SIZE", 1)  # two chunks for two rows
    taken_over: list[int] = []
    busy = False

    def slow_chunks(execute, sql, params, many, context):
        # Each chunk of rows takes most of a lease; meanwhile another worker looks for
        # jobs it could take over.
        nonlocal busy
        result = execute(sql, params, many, context)
        if not busy and sql.startswith('INSERT INTO "leads_lead"'):
            busy = True
            clock.advance(services.LEASE * 0.6)
            taken_over.extend(ImportJob.objects.filter(  # what a claim would take
                status=ImportJob.Status.RUNNING, due_at__lte=clock.now())
                .values_list("pk", flat=True))
            busy = False
        return result

    with connection.execute_wrapper(slow_chunks):
        assert services.run_job(queued_job.pk) == "done"

    assert taken_over == []
    assert Lead.objects.count() == 2


def test_a_job_whose_worker_dies_on_every_attempt_ends_failed(queued_job):
    for _ in range(ImportJob.max_attempts):
        workqueue.claim(ImportJob.objects.filter(pk=queued_job.pk), limit=1,
                        lease=services.LEASE, status=ImportJob.Status.RUNNING)
        clock.advance(services.LEASE + timedelta(seconds=1))

    assert services.run_due_jobs() == 0

    job = ImportJob.objects.get(pk=queued_job.pk)
    assert (job.status, job.attempts, job.due_at) == (
        ImportJob.Status.FAILED, ImportJob.max_attempts, None)
    assert Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
def test_a_job_queued_or_running_at_the_upgrade_is_run_after_it(admin_user, tmp_path,
                                                                  settings, status):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.MEDIA_ROOT = tmp_path
    job = services.create_job(admin_user, SimpleUploadedFile("a.csv", b"email\na@b.org\n"),
                              name="a.csv")
    MigrationExecutor(connection).migrate([("imports", "0002_import_job_lease")])
    # 0002 added the lease columns: a job from before has no due time.
    ImportJob.objects.filter(pk=job.pk).update(status=status, due_at=None)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert services.run_due_jobs() == 1
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE
