"""Capture through forms: one submit service for the hosted page, the iframe and the
embed snippet; double opt-in; manual entry (quick add)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext

from leadflow.accounts.permissions import Actor
from leadflow.capture import abuse, assessment, fields, tokens
from leadflow.capture.models import Form, FormField, OptInRequest
from leadflow.core import clock
from leadflow.core.errors import InvalidInput, NotFound
from leadflow.core.params import text
from leadflow.emails.suppression import lift_unsubscribed
from leadflow.leads.models import Lead
from leadflow.leads.quality import normalise_country, normalise_phone
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.tracking.models import Event, EventType
from leadflow.tracking.services import record_event
from leadflow.tracking.visitors import claim, identify, lead_for_visitor, verify_claims

if TYPE_CHECKING:
    from leadflow.accounts.models import User
    from leadflow.emails.models import EmailMessage

log = logging.getLogger(__name__)

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
HONEYPOT = abuse.HONEYPOT
SpamRejected = abuse.Rejected
OPTIN_TEMPLATE = "Leadflow: confirm your subscription"
OPTIN_EVENT = EventType.OPTIN_CONFIRMED


@dataclass
class Submission:
    values: dict[str, Any]
    consent: bool
    ip: str | None
    page_url: str
    token: str = ""
    visitor_id: str = ""
    lead_id: int | None = None  # from the signed lead cookie
    body_bytes: int = 0
    # Internal callers (the demo, scripts) skip the abuse checks meant for public posts.
    trusted: bool = False
    # The language the form was shown in: its consent text in that language is the proof.
    lang: str = ""
    # Names this post (a retry or double click sends it again): an assessment's points and
    # event are recorded once per key. Default: the fill token, fresh on each page shown.
    key: str = ""


@dataclass
class Outcome:
    lead: Lead
    redirect_url: str = ""
    download_url: str = ""
    awaiting_confirmation: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # The poster is known to be the lead: it was created by this post, the submission is
    # trusted, or it came with the lead's own signed cookie. Only then may the browser be
    # remembered as the lead (else a stranger could probe which emails are known).
    proven: bool = False
    result: assessment.Result | None = None  # an assessment's score and band


def recognised_lead(form: Form, *, visitor_id: str = "", lead_id: int | None = None
                    ) -> Lead | None:
    """The lead a visitor is known as (signed lead cookie, else the tracking visitor id),
    for progressive profiling only: nothing of the lead is shown to the visitor."""
    if not form.progressive_profiling:
        return None
    if lead_id is None and visitor_id:
        lead_id = lead_for_visitor(visitor_id)
    if lead_id is None:
        return None
    return Lead.objects.filter(pk=lead_id).first()


def safe_redirect(form: Form, url: str | None = None) -> str:
    """`url` (default: the form's redirect) if it is http(s) on one of the form's
    allowed domains (or a subdomain), else ""."""
    url = form.redirect_url if url is None else url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return ""
    for domain in form.domains():
        if host == domain or host.endswith("." + domain):
            return url
    return ""


def public_url(form: Form, view: str = "form") -> str:
    """The public address of a form's page (view "form"), definition or embed script:
    always from settings.BASE_URL (never the request's host), so that a link pasted in a
    customer's site or sent in an email works wherever Leadflow runs (LEADFLOW_PORT)."""
    return settings.BASE_URL + reverse(f"capture:{view}", args=[form.slug])


def magnet_url(form: Form, lead: Lead) -> str:
    if not form.lead_magnet:
        return ""
    token = tokens.magnet_token(form.pk, lead.pk)
    return settings.BASE_URL + reverse("capture:download", args=[form.slug, token])


def submit_form(form: Form, submission: Submission) -> Outcome:
    """Create or update the lead behind a form post, record `form_submitted` with the
    values (and the form's own event type), consent with its proof when ticked, link the
    tracking visitor, and start double opt-in when the form asks for it.

    Raises abuse.Rejected (counted, nothing stored) for spam, abuse or oversize posts
    (unless the submission is `trusted`), and InvalidInput (counted as "invalid") for a
    bad value. Returns the Outcome (lead, redirect, download link, opt-in pending).
    """
    values = submission.values
    try:
        if not submission.trusted:
            abuse.check_rate(form, submission.ip)
            abuse.check_size(values, submission.body_bytes)
            abuse.check_bot(form, values, submission.token)
        known = recognised_lead(form, visitor_id=submission.visitor_id,
                                lead_id=submission.lead_id)
        asked = {f.key for f in fields.shown_fields(form, known)}
        specs = fields.all_fields(form)
        clean = {}
        for spec in specs:
            if spec.key in asked or spec.key in values:
                # A required field the visitor was not asked (progressive profiling) may
                # be left out; when given, it is still validated.
                spec.required = spec.required and spec.key in asked
                clean[spec.key] = fields.clean_value(spec, values.get(spec.key))
        lead_data = fields.to_lead_data(specs, clean)
        result = (assessment.evaluate(form, specs, clean, submission.lang)
                  if assessment.is_assessment(form) else None)
        if result is not None:
            _add_answers(lead_data, result.lead_data)
        if not (lead_data.get("email") or lead_data.get("phone")):
            raise _no_contact(specs)
        if lead_data.get("phone"):
            lead_data["phone"] = _read_phone(form, lead_data)
        utm = {k: text(values[k], k).strip()[:150] for k in UTM if values.get(k)}
        lead_data.update(utm)
        lead_data.setdefault("channel", form.channel)
        if form.source and not utm.get("utm_source"):
            lead_data["source"] = form.source
        with transaction.atomic():
            outcome = _store(form, submission, lead_data, clean, utm)
            if result is not None:
                outcome.result = result
                assessment.record(form, outcome.lead, result,
                                  submission.key or submission.token or _answers_key(result))
    except abuse.Rejected as exc:
        abuse.count_rejection(form, exc.reason)
        raise
    except InvalidInput:
        abuse.count_rejection(form, "invalid")
        raise
    if outcome.awaiting_confirmation:
        send_confirmation(outcome.extra["optin_id"])
    return outcome


def _add_answers(lead_data: dict[str, Any], from_answers: dict[str, Any]) -> None:
    """What the assessment's answers set (BANT, custom fields), under what the form's own
    fields gave: a field asked directly says more than an answer that implies it."""
    for name, value in from_answers.items():
        if name == "custom":
            custom = lead_data.setdefault("custom", {})
            for key, item in value.items():
                custom.setdefault(key, item)
        else:
            lead_data.setdefault(name, value)


def _answers_key(result: assessment.Result) -> str:
    # A trusted caller without key or token (the demo, a script): the same answers at the
    # same minute are the same submission.
    return f"{sorted(result.answers.items())}{clock.now():%Y%m%d%H%M}"


def _no_contact(specs: list[FormField]) -> InvalidInput:
    keys = {f.lead_field: f.key for f in specs if f.lead_field in ("email", "phone")}
    if "email" in keys or "phone" not in keys:
        return InvalidInput(gettext("Please enter your email address."),
                            field=keys.get("email", "email"))
    return InvalidInput(gettext("Please enter your phone number."), field=keys["phone"])


def _read_phone(form: Form, lead_data: dict[str, Any]) -> str:
    """The phone in E.164 when it reads as a number of the country the visitor gave, else
    of the form's default country (else the installation's, in normalise_phone); as typed
    otherwise (upsert_lead keeps it, flagged)."""
    raw = str(lead_data["phone"])
    hint = normalise_country(str(lead_data.get("country") or "")) or form.default_country
    phone, flag = normalise_phone(raw, hint or None)
    return raw if flag else phone


def _store(form: Form, submission: Submission, lead_data: dict[str, Any],
           clean: dict[str, Any], utm: dict[str, str]) -> Outcome:
    # Anyone may type a known email into a public form: it fills that lead's empty fields
    # and never rewrites what is there.
    actor = Actor.public(f"form:{form.slug}", trusted=submission.trusted)
    lead, created = upsert_lead(lead_data, via=Event.Via.FORM, actor=actor)
    consent_text = form.text("consent_text", submission.lang)
    consent = submission.consent and bool(consent_text)
    if consent:
        record_consent(lead, granted=True, method=f"form:{form.slug}", text=consent_text,
                       text_version=form.consent_version, ip=submission.ip,
                       page_url=submission.page_url)
    shown = {k: v for k, v in clean.items() if v is not None}
    shown.update(utm)
    record_event(EventType.FORM_SUBMITTED, lead=lead, via=Event.Via.FORM,
                 properties={"form": form.slug, "values": shown, "consent": submission.consent,
                             "consent_version": form.consent_version if consent else "",
                             "page": submission.page_url})
    if form.event_type:
        record_event(form.event_type, lead=lead, via=Event.Via.FORM,
                     properties={"form": form.slug})
    outcome = Outcome(lead=lead, redirect_url=safe_redirect(form),
                      download_url=magnet_url(form, lead),
                      proven=created or submission.trusted or submission.lead_id == lead.pk)
    if form.double_opt_in and (consent or not consent_text) and not _confirmed(lead):
        optin = OptInRequest.objects.create(lead=lead, form=form, requested_at=clock.now(),
                                            page_url=submission.page_url[:500])
        outcome.awaiting_confirmation = True
        outcome.extra["optin_id"] = optin.pk
    if submission.visitor_id:
        if created or submission.trusted:
            identify(submission.visitor_id, lead)
        else:  # an existing lead: the visitor's events wait for proof (tracking.visitors)
            claim(submission.visitor_id, lead,
                  via=f"optin:{outcome.extra['optin_id']}" if outcome.awaiting_confirmation
                  else f"form:{form.slug}")
    return outcome


def _confirmed(lead: Lead) -> bool:
    return OptInRequest.objects.filter(lead=lead, confirmed_at__isnull=False).exists()


def awaiting_confirmation(lead: Lead) -> bool:
    """True while the lead has a double opt-in request it has not confirmed (one query);
    marketing email waits until then."""
    return bool(awaiting_confirmation_among([lead.pk]))


def awaiting_confirmation_among(lead_ids: list[int]) -> set[int]:
    """The leads among `lead_ids` awaiting a double opt-in confirmation (one query)."""
    return set(OptInRequest.objects.filter(lead_id__in=lead_ids, confirmed_at__isnull=True)
               .values_list("lead_id", flat=True))


def optin_template():
    """The transactional (non-marketing) confirmation email; editable in the admin."""
    from leadflow.emails.models import EmailTemplate

    template, _ = EmailTemplate.objects.get_or_create(
        name=OPTIN_TEMPLATE, defaults={
            "marketing": False,
            "subject": "Please confirm your email address",
            "body_text": "Hello {{ lead.first_name }},\n\nPlease confirm your email address "
                         "by opening this link:\n{{ confirm_url }}\n"
                         "{% if download_url %}\nYour download: {{ download_url }}\n{% endif %}"
                         "\nIf you did not ask for this, ignore this email.\n"})
    return template


def send_confirmation(optin_id: int) -> EmailMessage | None:
    """Queue the double opt-in email of an OptInRequest for the outbox (once: a retry is a
    no-op); a worker sends it, never the request that asked for it."""
    from leadflow.emails.services import send_template

    optin = OptInRequest.objects.select_related("lead", "form").filter(pk=optin_id).first()
    if optin is None or optin.confirmed_at is not None:
        return None
    confirm = settings.BASE_URL + reverse("capture:confirm",
                                          args=[tokens.optin_token(optin.pk)])
    download = magnet_url(optin.form, optin.lead) if optin.form else ""
    return send_template(optin.lead, optin_template(), dedupe_key=f"optin:{optin.pk}",
                         context={"confirm_url": confirm, "download_url": download})


@transaction.atomic
def confirm_optin(token: str, *, ip: str | None = None) -> Lead:
    """Confirm a double opt-in link: every pending request of the lead is confirmed (only
    the visitor of this link's request becomes the lead), consent is granted (method
    "double opt-in") and `optin_confirmed` recorded. Safe to repeat. Raises NotFound for a
    bad or expired link."""
    optin_id = tokens.read_optin_token(token)
    optin = (OptInRequest.objects.select_for_update(of=("self",)).select_related("lead", "form")
             .filter(pk=optin_id).first() if optin_id else None)
    if optin is None:
        raise NotFound(gettext("This confirmation link is invalid or has expired."))
    lead = optin.lead
    if optin.confirmed_at is not None:
        return lead
    now = clock.now()
    OptInRequest.objects.filter(lead=lead, confirmed_at__isnull=True).update(confirmed_at=now)
    # Only the browser that asked for this link is proven to be the lead: another pending
    # request for the same email may be anyone's.
    claims = [f"optin:{optin.pk}"]
    form = optin.form
    record_consent(lead, granted=True, method="double opt-in",
                   text=form.consent_text if form else "",
                   text_version=form.consent_version if form else "", ip=ip,
                   page_url=optin.page_url)
    record_event(OPTIN_EVENT, lead=lead, via=Event.Via.EMAIL,
                 properties={"form": form.slug if form else "", "optin_id": optin.pk})
    # The person asked again, with proof: their own unsubscribe no longer holds.
    lift_unsubscribed(lead.email or "")
    verify_claims(lead, via=claims)
    return lead


def magnet_for_download(slug: str, token: str) -> Form:
    """The form whose file a download link delivers. Raises NotFound when the link is
    forged, expired, or names another form or a form without a file."""
    parsed = tokens.read_magnet_token(token)
    form = Form.objects.filter(slug=slug).first()
    if parsed is None or form is None or parsed[0] != form.pk or not form.lead_magnet:
        raise NotFound(gettext("This download link is invalid or has expired."))
    return form


@dataclass
class QuickAdd:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    company_name: str = ""
    title: str = ""
    country: str = ""
    channel: str = ""
    source: str = ""
    note: str = ""


def quick_add(user: User, entry: QuickAdd) -> tuple[Lead, bool]:
    """Create (or update) a lead typed in by a person (trade show, phone call), with a
    `note` event when a note is given. A sales rep becomes the owner of a lead they add,
    unless it already has an owner (routing or an earlier owner keeps it); others' leads go
    through routing. Returns (lead, created). Raises InvalidInput without email or phone,
    and Conflict when the lead is another rep's: then nothing changed and the entry, note
    included, is on that lead's timeline for its owner (see leads.services.upsert_lead).
    """
    from leadflow.accounts.permissions import adds_own_leads
    from leadflow.routing.services import assign_lead

    if not (entry.email.strip() or entry.phone.strip()):
        raise InvalidInput(gettext("Enter an email address or a phone number."), field="email")
    if len(entry.note) > 5000 or "\x00" in entry.note:
        raise InvalidInput(gettext("The note is longer than 5000 characters."), field="note")
    data = {k: v for k, v in vars(entry).items() if k != "note" and v.strip()}
    is_rep = adds_own_leads(user)
    if is_rep:
        _claim_unowned(user, data.get("email"))
    # Not in one transaction with what follows: a Conflict must keep the proposal it
    # recorded.
    lead, created = upsert_lead({**data, "note": entry.note}, via=Event.Via.UI, actor=user,
                                route=not is_rep)
    with transaction.atomic():
        if is_rep and lead.owner_id is None:
            assign_lead(lead, user, actor=user, reason="added by hand")
        if entry.note.strip():
            record_event(EventType.NOTE, lead=lead, via=Event.Via.UI, actor=user,
                         properties={"text": entry.note.strip()})
    return lead, created


def _claim_unowned(rep: User, email: str | None) -> None:
    """A rep who types in a known lead that nobody works takes it (then may update it)."""
    from leadflow.core.addresses import normalise_email
    from leadflow.routing.services import assign_lead

    email = normalise_email(email)
    lead = Lead.objects.filter(email=email, owner__isnull=True).first() if email else None
    if lead is not None:
        assign_lead(lead, rep, actor=rep, reason="added by hand")
