from django.tasks import task

from leadflow.emails import services
from leadflow.emails.models import EmailTemplate
from leadflow.leads.models import Lead


@task
def send_template_task(lead_id: int, template_id: int, dedupe_key: str) -> str:
    """Send one email; re-fetches its rows, tolerates them being deleted, sends once."""
    lead = Lead.objects.filter(pk=lead_id).first()
    template = EmailTemplate.objects.filter(pk=template_id).first()
    if lead is None or template is None:
        return "gone"
    return services.send_template(lead, template, dedupe_key=dedupe_key).status
