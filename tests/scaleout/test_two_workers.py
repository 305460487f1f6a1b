"""Scale-out: two `leadflow worker` processes share the work and nothing is done twice.

(a) 200 email tasks queued through django.tasks (RQ backend): each lead gets exactly one
    email, and both workers ran some of the tasks.
(b) 200 campaign enrollments due now: the workers' periodic ticks claim them with
    SELECT ... FOR UPDATE SKIP LOCKED (on their ticks and in the wake-up tasks); each lead
    gets exactly one campaign email, and both workers did some of the work.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.tasks import send_template_task
from leadflow.leads.models import Lead
from tests.scaleout.conftest import WORKER_NAMES
from tests.workers import wait_until

pytestmark = [pytest.mark.scaleout, pytest.mark.django_db(transaction=True)]

LEADS = 200


def make_leads(prefix: str) -> list[Lead]:
    now = timezone.now()
    # Leads who consented to marketing (its proof is not what this test is about).
    return Lead.objects.bulk_create(
        Lead(email=f"{prefix}{i:03d}@scaleout.example", first_name=f"L{i}", created_at=now,
             updated_at=now, marketing_consent=True) for i in range(LEADS))


def make_template() -> EmailTemplate:
    return EmailTemplate.objects.create(name="Scale-out", subject="Hello {{ lead.first_name }}",
                                        body_text="One email, once.")


def recipients(mailbox) -> Counter[str]:
    return Counter(address.strip() for message in mailbox.messages
                   for address in message["X-Envelope-To"].split(","))


def assert_exactly_one_email_each(mailbox, leads: list[Lead]) -> None:
    wait_until(lambda: len(mailbox.messages) >= len(leads), 90,
               f"{len(leads)} emails (got {len(mailbox.messages)})")
    time.sleep(1.5)  # anything sent twice would arrive now
    assert recipients(mailbox) == Counter({lead.email: 1 for lead in leads})


def test_two_workers_share_queued_email_tasks_and_send_each_once(workers, smtp_server):
    leads, template = make_leads("queued"), make_template()

    results = [send_template_task.enqueue(lead.pk, template.pk, f"scaleout:{lead.pk}")
               for lead in leads]

    assert_exactly_one_email_each(smtp_server, leads)
    assert EmailMessage.objects.filter(status=EmailMessage.Status.SENT).count() == LEADS

    def finished():
        return [send_template_task.get_result(r.id) for r in results
                if send_template_task.get_result(r.id).status == "SUCCESSFUL"]

    wait_until(lambda: len(finished()) == LEADS, 30, "every task result to be recorded")
    ran_by = Counter(worker_id for result in finished() for worker_id in result.worker_ids)
    print(f"tasks run by worker: {dict(ran_by)}")
    assert set(ran_by) == set(WORKER_NAMES), ran_by
    assert sum(ran_by.values()) == LEADS


def test_two_workers_claim_due_enrollments_and_send_each_campaign_email_once(workers,
                                                                               smtp_server):
    leads, template = make_leads("enrolled"), make_template()
    campaign = Campaign.objects.create(name="Scale-out", entry_event_type="scaleout_entered")
    Step.objects.create(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL,
                        template=template)
    past = timezone.now() - timedelta(minutes=5)

    Enrollment.objects.bulk_create(
        Enrollment(campaign=campaign, lead=lead, entered_at=past, next_run_at=past)
        for lead in leads)

    assert_exactly_one_email_each(smtp_server, leads)
    wait_until(lambda: not Enrollment.objects.filter(status="active").exists(), 30,
               "every enrollment to complete")
    assert Enrollment.objects.filter(status="completed").count() == LEADS
    assert EmailMessage.objects.filter(campaign=campaign, status="sent").count() == LEADS
    claimed = {}
    for worker in workers:
        # Claims happen on the periodic tick and in the wake-up tasks (which tick too).
        counts = re.findall(rf"worker {worker.name}(?::| ran) (?:periodic jobs did )?(\d+) "
                            r"(?:item|queued task)", worker.output())
        claimed[worker.name] = sum(int(n) for n in counts)
    print(f"work done by worker: {claimed}")
    assert all(claimed.values()), claimed
