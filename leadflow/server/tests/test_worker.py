"""The worker: queued django.tasks (database backend) and due campaign steps.

The worker runs outside any request transaction and closes stale connections between
tasks, so these tests commit their data (transaction=True), as production does.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.tasks import send_template_task
from leadflow.leads.models import Lead
from leadflow.server.tests.test_cli import (  # noqa: F401 (fixtures)
    cli_data_dir,
    cli_env,
    leadflow_command,
    migrated_db,
)
from leadflow.server.worker import Worker

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def db_tasks(transactional_db, settings):
    # About the worker, not the legal basis: marketing goes to every lead not opted out.
    settings.MARKETING_BASIS = "legitimate_interest"
    settings.TASKS = DB_TASKS
    settings.MAILERS = LOCMEM
    mail.outbox = []


def make_lead(email: str) -> Lead:
    now = timezone.now()
    return Lead.objects.create(email=email, first_name="Ana", created_at=now, updated_at=now)


def make_template() -> EmailTemplate:
    return EmailTemplate.objects.create(name="Hello", subject="Hello {{ lead.first_name }}",
                                        body_text="Hi {{ lead.first_name }}")


def due_enrollment(lead: Lead, template: EmailTemplate) -> Enrollment:
    campaign = Campaign.objects.create(name="Welcome", entry_event_type="newsletter_signup")
    Step.objects.create(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL,
                        template=template)
    past = timezone.now() - timedelta(minutes=1)
    return Enrollment.objects.create(campaign=campaign, lead=lead, entered_at=past,
                                     next_run_at=past)


def test_once_runs_queued_database_tasks(db_tasks):
    lead, template = make_lead("ana@example.com"), make_template()
    result = send_template_task.enqueue(lead.pk, template.pk, "test:1")
    assert DBTaskResult.objects.get(pk=result.id).status == "READY"

    done = Worker(name="test-worker").run_once()

    task = DBTaskResult.objects.get(pk=result.id)
    assert (task.status, task.return_value, task.worker_ids) == ("SUCCESSFUL", "sent",
                                                                  ["test-worker"])
    assert done == 2  # the task, then the wake-up it queued for the outbox
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


def test_once_leaves_tasks_scheduled_for_later(db_tasks):
    lead, template = make_lead("ana@example.com"), make_template()
    later = send_template_task.using(run_after=timezone.now() + timedelta(hours=1))
    result = later.enqueue(lead.pk, template.pk, "test:later")

    Worker().run_once()

    assert DBTaskResult.objects.get(pk=result.id).status == "READY"
    assert mail.outbox == []


def test_once_runs_due_enrollments(db_tasks):
    lead = make_lead("bo@example.com")
    enrollment = due_enrollment(lead, make_template())

    Worker().run_once()

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.COMPLETED
    assert EmailMessage.objects.get(lead=lead).status == EmailMessage.Status.SENT
    assert [m.to for m in mail.outbox] == [["bo@example.com"]]


def test_once_leaves_enrollments_that_are_not_due(db_tasks):
    enrollment = due_enrollment(make_lead("cy@example.com"), make_template())
    Enrollment.objects.filter(pk=enrollment.pk).update(
        next_run_at=timezone.now() + timedelta(days=2))

    assert Worker().run_once() == 0

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert mail.outbox == []


def test_thread_runs_queued_tasks_and_stops_on_request(db_tasks):
    lead, template = make_lead("dee@example.com"), make_template()
    result = send_template_task.enqueue(lead.pk, template.pk, "test:thread")
    worker = Worker(name="thread-worker", tick_seconds=60, poll_seconds=0.1)

    thread = worker.start()
    try:
        # Wait on the mailbox, not the database: SQLite's shared in-memory test database
        # does not let two threads' connections write and read a table at once.
        deadline = time.monotonic() + 20
        while not mail.outbox:
            assert time.monotonic() < deadline, "the worker thread did not run the task"
            time.sleep(0.05)
    finally:
        stopped = worker.stop(timeout=10)

    assert stopped and not thread.is_alive()
    assert DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL"
    assert [m.to for m in mail.outbox] == [["dee@example.com"]]


def test_worker_process_stops_cleanly_on_sigterm(cli_data_dir):  # noqa: F811
    worker = subprocess.Popen([*leadflow_command(), "worker", "--name", "sigterm-test"],
                              env=cli_env(cli_data_dir, LEADFLOW_LOG_LEVEL="INFO"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        assert worker.stdout is not None
        for line in worker.stdout:  # wait until it runs
            if "worker sigterm-test started" in line:
                break
            assert time.monotonic() < deadline
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert "worker sigterm-test stopped" in output
