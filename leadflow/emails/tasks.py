from django.tasks import task

from leadflow.core import periodic
from leadflow.emails import dns_check, services
from leadflow.emails.models import EmailTemplate
from leadflow.leads.models import Lead


@task
def send_outbox_task() -> int:
    """Wake a worker up: it sends what is queued (the outbox rows are the work; any
    worker's tick sends them too), and lets the campaign steps waiting for them go on."""
    return periodic.tick()


@task
def send_template_task(lead_id: int, template_id: int, dedupe_key: str) -> str:
    """Queue one email and send what is due; re-fetches its rows, tolerates them being
    deleted, sends once."""
    lead = Lead.objects.filter(pk=lead_id).first()
    template = EmailTemplate.objects.filter(pk=template_id).first()
    if lead is None or template is None:
        return "gone"
    message = services.send_template(lead, template, dedupe_key=dedupe_key)
    periodic.tick()
    message.refresh_from_db()
    return message.status


@task
def check_dns_task() -> int:
    """Wake a worker up to look at the sending domains whose DNS check is due (the
    DnsCheck rows are the work; every worker's tick looks too)."""
    return dns_check.run_due()
