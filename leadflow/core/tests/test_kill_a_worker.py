"""Kill a worker (SIGKILL) in the middle of a batch of sends and of an import: a second
worker finishes the work, every email arrives, and the only duplicates are the messages
the killed worker had handed to the SMTP server without marking them sent, each with the
same Message-ID as its retry.

PostgreSQL only (real worker processes sharing the test database); .ci/run runs it there.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.services import send_template
from leadflow.imports import services as imports
from leadflow.imports.models import ImportJob
from leadflow.leads.models import Lead
from tests.workers import wait_until, worker_env, worker_processes

pytestmark = pytest.mark.django_db(transaction=True)

EMAILS = 30
IMPORTED = 6000  # more than one chunk of rows, so the import pauses between chunks
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def start_worker(settings, smtp_server, tmp_path) -> Iterator:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes sharing the test database need PostgreSQL")
    settings.TASKS = DB_TASKS  # wake-ups are rows the worker processes run
    settings.MEDIA_ROOT = tmp_path / "media"
    env = worker_env(settings.MAILERS["default"]["OPTIONS"]["port"],
                     LEADFLOW_DATA_DIR=str(tmp_path), LEADFLOW_TASK_BACKEND="db")
    with worker_processes(tmp_path) as start_process:
        yield lambda name, failpoint="": start_process(
            name, {**env, "LEADFLOW_FAILPOINT": failpoint}).process


def queue_emails() -> list[Lead]:
    now = timezone.now()
    leads = Lead.objects.bulk_create(
        Lead(email=f"k{i:02d}@mail.example", first_name=f"K{i}", created_at=now,
             updated_at=now, marketing_consent=True) for i in range(EMAILS))
    template = EmailTemplate.objects.create(name="Kill", subject="Hello {{ lead.first_name }}",
                                            body_text="Exactly once, ideally.")
    for lead in leads:
        send_template(lead, template, dedupe_key=f"kill:{lead.pk}")
    return leads


def queue_import(user, tmp_path: Path, monkeypatch) -> ImportJob:
    from django.core.files.uploadedfile import SimpleUploadedFile

    monkeypatch.setattr(imports, "INLINE_MAX_BYTES", 10)  # run by a worker, not here
    rows = "".join(f"i{i:05d}@import.example,I{i}\n" for i in range(IMPORTED))
    upload = SimpleUploadedFile("big.csv", f"email,first_name\n{rows}".encode())
    job = imports.create_job(user, upload, name="big.csv")
    return imports.start_job(job, spec=job.spec, dry_run=False)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_a_killed_worker_s_sends_and_import_are_finished_by_another(
        start_worker, smtp_server, admin_user, tmp_path, monkeypatch, settings):
    leads = queue_emails()
    # Worker 1 claims the whole batch of sends; after the SMTP server accepts the first
    # message it stalls before marking it sent.
    sender = start_worker("killed-sender", "email.after_smtp:sleep=120")
    wait_until(lambda: smtp_server.messages, 60, "the first message to reach SMTP")
    # Worker 2 takes the import and stalls after its first chunk of rows.
    job = queue_import(admin_user, tmp_path, monkeypatch)
    importer = start_worker("killed-importer", "import.after_chunk:sleep=120")
    wait_until(lambda: Lead.objects.filter(email__endswith="@import.example").exists(), 120,
               "the import to write its first chunk")
    in_flight = len(smtp_server.messages)

    kill(sender)
    kill(importer)
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.RUNNING
    assert EmailMessage.objects.filter(status=EmailMessage.Status.SENDING).count() == EMAILS
    # Time passes: the dead workers' leases (minutes) run out; not waited for here.
    EmailMessage.objects.exclude(claimed_by="").update(due_at=timezone.now())
    ImportJob.objects.filter(pk=job.pk).update(due_at=timezone.now())
    start_worker("rescuer")

    def finished() -> bool:
        return (EmailMessage.objects.filter(status=EmailMessage.Status.SENT).count() == EMAILS
                and ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.DONE)

    wait_until(finished, 180, "the second worker to finish the sends and the import")
    job.refresh_from_db()
    assert (job.total, job.attempts) == (IMPORTED, 2)
    assert Lead.objects.filter(email__endswith="@import.example").count() == IMPORTED

    received = Counter(m["Message-ID"] for m in smtp_server.messages)
    rows = dict(EmailMessage.objects.values_list("to_email", "message_id"))
    assert {m["X-Envelope-To"] for m in smtp_server.messages} == {le.email for le in leads}
    # Each recipient got only its row's Message-ID: a duplicate is the same message.
    for message in smtp_server.messages:
        assert message["Message-ID"] == rows[message["X-Envelope-To"]]
    duplicates = sum(count - 1 for count in received.values())
    # Each of the worker's SMTP connections stopped after the server accepted one message.
    assert 1 <= in_flight <= settings.SMTP_CONNECTIONS
    assert duplicates <= in_flight
    print(f"in flight on the killed worker: {in_flight}, delivered twice: {duplicates}")
