"""Sending email to leads, and what leads do with it (open, unsubscribe)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction
from django.template import Context, Template
from django.urls import reverse
from django.utils.html import escape

from leadflow.core import clock
from leadflow.emails import tokens
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType

log = logging.getLogger(__name__)


def unsubscribe_url(lead: Lead, campaign_id: int | None) -> str:
    token = tokens.unsubscribe_token(lead.pk, campaign_id)
    return settings.BASE_URL + reverse("emails:unsubscribe", args=[token])


def send_template(lead: Lead, template: EmailTemplate, *, dedupe_key: str,
                  campaign_id: int | None = None) -> EmailMessage:
    """Send `template` to `lead` once per `dedupe_key` (a retry returns the first message).

    Marketing email is skipped (and recorded as skipped) for leads without an address,
    opted out, or marked do-not-email; it carries one-click unsubscribe headers.
    The row is written before the SMTP call so that a crash mid-send never sends twice.
    """
    existing = EmailMessage.objects.filter(dedupe_key=dedupe_key).first()
    if existing:
        return existing
    skip = not lead.email or (template.marketing and lead.do_not_email)
    try:
        with transaction.atomic():
            message = EmailMessage.objects.create(
                lead=lead, template=template, campaign_id=campaign_id, dedupe_key=dedupe_key,
                to_email=lead.email or "", subject="",
                status=EmailMessage.Status.SKIPPED if skip else EmailMessage.Status.SENDING)
    except IntegrityError:
        return EmailMessage.objects.get(dedupe_key=dedupe_key)
    if skip:
        message.error = "no email address" if not lead.email else "lead opted out"
        message.save(update_fields=["error"])
        return message

    unsub = unsubscribe_url(lead, campaign_id)
    context = Context({"lead": lead, "unsubscribe_url": unsub})
    subject = Template(template.subject).render(context).strip().replace("\n", " ")[:200]
    text = Template(template.body_text).render(context)
    if template.marketing:
        text += f"\n\n--\nUnsubscribe: {unsub}\n"
    msgid = make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> "))
    headers = {"Message-ID": msgid}
    if template.marketing:
        headers["List-Unsubscribe"] = f"<{unsub}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(subject=subject, body=text, to=[lead.email],
                                   headers=headers)
    if template.body_html:
        pixel = settings.BASE_URL + reverse("emails:open", args=[tokens.open_token(message.pk)])
        html = Template(template.body_html).render(context)
        if template.marketing:
            html += (f'<p style="font-size:12px"><a href="{escape(unsub)}">Unsubscribe</a></p>'
                     f'<img src="{escape(pixel)}" width="1" height="1" alt="">')
        email.attach_alternative(html, "text/html")
    message.subject, message.message_id = subject, msgid
    try:
        email.send()
    except Exception as exc:  # SMTP failures are expected: record them, do not crash
        log.warning("email %s to lead %s failed: %s", message.pk, lead.pk, exc)
        message.status, message.error = EmailMessage.Status.FAILED, str(exc)[:2000]
        message.save(update_fields=["subject", "message_id", "status", "error"])
        return message
    message.status, message.sent_at = EmailMessage.Status.SENT, clock.now()
    message.save(update_fields=["subject", "message_id", "status", "sent_at"])
    from leadflow.tracking.services import record_event

    record_event(EventType.EMAIL_SENT, lead=lead, via=Event.Via.EMAIL,
                 idempotency_key=f"email_sent:{message.pk}",
                 properties={"message_id": message.pk, "template": template.name,
                             "campaign_id": campaign_id, "subject": subject})
    return message


@transaction.atomic
def unsubscribe(token: str, *, ip: str | None = None) -> Lead | None:
    """Honour an unsubscribe link at once: do-not-email, consent withdrawn, an
    `unsubscribed` event. Returns the lead, or None for a bad token. Safe to repeat."""
    parsed = tokens.read_unsubscribe_token(token)
    if parsed is None:
        return None
    lead_id, campaign_id = parsed
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        return None
    if lead.do_not_email and not lead.marketing_consent:
        return lead
    from leadflow.leads.services import record_consent
    from leadflow.tracking.services import record_event

    record_consent(lead, granted=False, method="unsubscribe link", ip=ip)
    record_event(EventType.UNSUBSCRIBED, lead=lead, via=Event.Via.EMAIL,
                 properties={"campaign_id": campaign_id})
    return lead


def record_open(token: str) -> bool:
    """Record an `email_opened` event for the message behind a pixel token (once)."""
    message_id = tokens.read_open_token(token)
    if message_id is None:
        return False
    message = EmailMessage.objects.filter(pk=message_id).select_related("lead").first()
    if message is None:
        return False
    from leadflow.tracking.services import record_event

    _, created = record_event(EventType.EMAIL_OPENED, lead=message.lead, via=Event.Via.EMAIL,
                              idempotency_key=f"email_opened:{message.pk}",
                              properties={"message_id": message.pk,
                                          "campaign_id": message.campaign_id})
    if created:
        EmailMessage.objects.filter(pk=message.pk).update(opened_at=clock.now())
    return created
