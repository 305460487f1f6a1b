"""Capture through hosted forms (deepened by the Capture issue: builder, embeds, abuse)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from leadflow.capture.models import Form
from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.tracking.models import Event, EventType
from leadflow.tracking.services import record_event

FIELDS = ("email", "first_name", "last_name", "company_name", "phone")
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
HONEYPOT = "website"


@dataclass
class Submission:
    values: dict[str, str]
    consent: bool
    ip: str | None
    page_url: str


class SpamRejected(InvalidInput):
    status = 400


@transaction.atomic
def submit_form(form: Form, submission: Submission) -> Lead:
    """Create or update the lead behind a form post, record `form_submitted` (and the
    form's own event type) and, when ticked, consent with its proof.

    Raises InvalidInput for a missing or bad email, SpamRejected for a filled honeypot.
    """
    values = submission.values
    if values.get(HONEYPOT):
        raise SpamRejected("Rejected.")
    if not values.get("email"):
        raise InvalidInput("Please enter your email address.", field="email")
    data = {k: values[k] for k in FIELDS if values.get(k)}
    data.update({k: values[k] for k in UTM if values.get(k)})
    data.setdefault("channel", form.channel)
    if form.source and not data.get("utm_source"):
        data["source"] = form.source
    lead, _ = upsert_lead(data, via=Event.Via.FORM)
    if submission.consent and form.consent_text:
        record_consent(lead, granted=True, method=f"form:{form.slug}", text=form.consent_text,
                       text_version=form.consent_version, ip=submission.ip,
                       page_url=submission.page_url)
    shown = {k: v for k, v in values.items() if k in FIELDS or k in UTM}
    record_event(EventType.FORM_SUBMITTED, lead=lead, via=Event.Via.FORM,
                 properties={"form": form.slug, "values": shown,
                             "consent": submission.consent, "page": submission.page_url})
    if form.event_type:
        record_event(form.event_type, lead=lead, via=Event.Via.FORM,
                     properties={"form": form.slug})
    return lead
