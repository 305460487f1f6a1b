"""The template editor's services (pages in emails.views_templates, API in emails.api):
templates and their language versions, the spam-check list, a preview with a real lead,
and a test sent to oneself. Who may: the `templates` row of accounts.permissions'
CONFIGURATION (administrators and marketing)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, VIEW, may
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, check_fields
from leadflow.emails import rendering
from leadflow.emails.checks import Draft, Finding, check
from leadflow.emails.models import (
    EmailMessage,
    EmailTemplate,
    EmailTemplateVersion,
    SenderIdentity,
    Topic,
)
from leadflow.emails.starters import STARTERS

if TYPE_CHECKING:
    from leadflow.accounts.models import User

TEMPLATE_FIELDS = ("name", "subject", "body_html", "body_text", "body_format", "language",
                   "marketing", "topic", "sender")
VERSION_FIELDS = ("subject", "body_html", "body_text")


def _may(user: User, action: str) -> None:
    if not may(user, action, "templates"):
        raise Forbidden(_("Only administrators and marketers may change email templates.")
                        if action == CHANGE else
                        _("Only administrators and marketers may see email templates."))


def check_may_read(user: User) -> None:
    _may(user, VIEW)


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _language(value: Any, field: str = "language") -> str:
    if value not in languages():
        raise InvalidInput(_("Unknown language %(code)r (one of: %(codes)s).") % {
            "code": value, "codes": ", ".join(languages())}, field=field)
    return str(value)


def _text(data: dict[str, Any], name: str, limit: int | None = None) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise InvalidInput(_("%(field)s must be text.") % {"field": name}, field=name)
    if limit and len(value) > limit:
        raise InvalidInput(_("%(field)s is longer than %(n)s characters.")
                           % {"field": name, "n": limit}, field=name)
    return value


def _row(model: Any, value: Any, field: str) -> Any:
    if value in (None, ""):
        return None
    found = model.objects.filter(pk=value).first() if isinstance(value, int) else None
    if found is None:
        raise InvalidInput(_("No %(what)s #%(id)s.") % {
            "what": model._meta.verbose_name, "id": value}, field=field)
    return found


def new_template(starter: str = "") -> EmailTemplate:
    """An unsaved template to start from: a starter layout (MJML), or blank (HTML)."""
    found = STARTERS.get(starter)
    if found is None:
        return EmailTemplate(subject="", language=settings.LANGUAGE_CODE.split("-")[0])
    return EmailTemplate(name=str(found.name), subject=found.subject, body_html=found.body(),
                         body_format=EmailTemplate.Format.MJML,
                         language=settings.LANGUAGE_CODE.split("-")[0])


def _apply(template: EmailTemplate, data: dict[str, Any]) -> None:
    check_fields(data, TEMPLATE_FIELDS)
    for name, limit in (("name", 120), ("subject", 200), ("body_html", None),
                        ("body_text", None)):
        if name in data:
            setattr(template, name, _text(data, name, limit))
    if "body_format" in data:
        if data["body_format"] not in EmailTemplate.Format.values:
            raise InvalidInput(_("The body format is mjml or html."), field="body_format")
        template.body_format = data["body_format"]
    if "language" in data:
        template.language = _language(data["language"])
    if "marketing" in data:
        if not isinstance(data["marketing"], bool):
            raise InvalidInput(_("marketing must be true or false."), field="marketing")
        template.marketing = data["marketing"]
    if "topic" in data:
        template.topic = _row(Topic, data["topic"], "topic")
    if "sender" in data:
        template.sender = _row(SenderIdentity, data["sender"], "sender")
    if not template.name.strip():
        raise InvalidInput(_("Give the template a name."), field="name")


def _refuse_blocking(findings: list[Finding]) -> None:
    """A template that does not compile is not saved: every send of it would fail."""
    for finding in findings:
        if finding.blocking:
            raise InvalidInput(finding.message, field=finding.field or None)


@transaction.atomic
def save_template(user: User, template: EmailTemplate | None,
                  data: dict[str, Any]) -> tuple[EmailTemplate, list[Finding]]:
    """Create (`template` None) or change a template; returns it with its spam-check list.
    Refused (422) when it does not compile; a name already taken is a 409."""
    _may(user, CHANGE)
    template = template or new_template()
    if template.pk is not None:  # the row as stored, not an instance changed elsewhere
        template = EmailTemplate.objects.select_for_update().get(pk=template.pk)
    _apply(template, data)
    if template.pk is not None and template.versions.filter(
            language=template.language).exists():
        raise Conflict(_("There is already a %(language)s version: delete it first, or "
                         "choose another default language.") % {"language": template.language},
                       field="language")
    findings = _check_one(template, _draft(template))
    _refuse_blocking(findings)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise Conflict(_("A template named %(name)r already exists.") % {
            "name": template.name}, field="name") from exc
    return template, findings


@transaction.atomic
def save_version(user: User, template: EmailTemplate, language: str,
                 data: dict[str, Any]) -> tuple[EmailTemplateVersion, list[Finding]]:
    """Create or change the template's version in `language` (not its default one)."""
    _may(user, CHANGE)
    _language(language)
    if language == template.language:
        raise InvalidInput(_("%(language)s is the template's default language: change the "
                             "template itself.") % {"language": language}, field="language")
    check_fields(data, VERSION_FIELDS)
    version = (EmailTemplateVersion.objects.select_for_update()
               .filter(template=template, language=language).first()
               or EmailTemplateVersion(template=template, language=language))
    for name, limit in (("subject", 200), ("body_html", None), ("body_text", None)):
        if name in data:
            setattr(version, name, _text(data, name, limit))
    findings = _check_one(template, Draft(language, version.subject, version.body_html,
                                          version.body_text))
    _refuse_blocking(findings)
    version.save()
    return version, findings


def delete_version(user: User, template: EmailTemplate, language: str) -> bool:
    _may(user, CHANGE)
    version = EmailTemplateVersion.objects.filter(template=template, language=language).first()
    if version is None:
        return False
    version.delete()  # one row at a time: the audit log records it
    return True


def delete_template(user: User, template: EmailTemplate) -> None:
    """Delete a template and its versions; messages already queued keep their rows (and
    are sent as rendered), campaign steps using it lose it."""
    _may(user, CHANGE)
    try:
        with transaction.atomic():
            for version in template.versions.all():
                version.delete()
            template.delete()
    except ProtectedError:
        raise Conflict(_("Campaign steps send this template: change them first.")) from None


def _draft(template: EmailTemplate) -> Draft:
    return Draft(template.language, template.subject, template.body_html, template.body_text)


def _check_one(template: EmailTemplate, draft: Draft) -> list[Finding]:
    from leadflow.leads.models import CustomFieldDefinition

    keys = frozenset(CustomFieldDefinition.objects.values_list("key", flat=True))
    return check(template.body_format, draft, marketing=template.marketing,
                 has_topic=template.topic_id is not None, custom_keys=keys)


def checks(user: User, template: EmailTemplate, data: dict[str, Any] | None = None,
           *, language: str | None = None) -> list[Finding]:
    """The spam-check list of every version of `template`, or of the one in `language`
    as `data` would change it (nothing saved)."""
    _may(user, VIEW)
    if language is None or language == template.language:
        draft_template = EmailTemplate(**{f.attname: getattr(template, f.attname)
                                          for f in EmailTemplate._meta.concrete_fields})
        if data:
            _apply(draft_template, data)
        found = _check_one(draft_template, _draft(draft_template))
        if language is not None:
            return found
        for version in template.versions.all():
            found += _check_one(template, Draft(version.language, version.subject,
                                                version.body_html, version.body_text))
        return found
    check_fields(data or {}, VERSION_FIELDS)
    stored = template.versions.filter(language=language).first()
    values = {name: getattr(stored, name) if stored else "" for name in VERSION_FIELDS}
    values.update(data or {})
    text = {name: str(values[name] or "") for name in ("subject", "body_html", "body_text")}
    return _check_one(template, Draft(language, text["subject"], text["body_html"],
                                      text["body_text"]))


def _lead(user: User, lead_id: int) -> Any:
    from leadflow.leads.services import get_visible_lead

    return get_visible_lead(user, lead_id)


def preview_leads(user: User, limit: int = 50) -> list[Any]:
    """Leads to preview with: the latest the user may see that have an address."""
    from leadflow.leads.services import visible_leads

    return list(visible_leads(user).filter(erased_at__isnull=True, email__isnull=False)
                .order_by("-id")[:limit])


def preview(user: User, template: EmailTemplate, lead_id: int,
            language: str | None = None) -> rendering.Rendered:
    """The template as the lead (one the user may see) would get it; nothing stored."""
    _may(user, VIEW)
    if language is not None:
        _language(language)
    rendered = rendering.preview(template, _lead(user, lead_id), language=language)
    if rendered.error:
        raise InvalidInput(rendered.error, field="body_html")
    return rendered


def send_test(user: User, template: EmailTemplate, lead_id: int,
              language: str | None = None) -> EmailMessage:
    """Queue the template, with the lead's data, to the user's own address (transactional
    lane, flagged as a test: never to the lead, nothing on its timeline)."""
    from leadflow.emails.services import _kick_outbox, new_message_id

    _may(user, CHANGE)
    if not user.email:
        raise InvalidInput(_("Your account has no email address to send the test to."),
                           field="email")
    lead = _lead(user, lead_id)
    chosen = _language(language) if language else ""
    with transaction.atomic():
        message = EmailMessage.objects.create(
            lead=lead, template=template, dedupe_key=f"test:{uuid.uuid4().hex}",
            to_email=user.email, subject="", status=EmailMessage.Status.QUEUED,
            lane=EmailMessage.Lane.TRANSACTIONAL, test=True, language=chosen,
            sender=template.sender, context={})
        # Rendered now, as services.send_template does: the outbox sends what is stored.
        rendering.render_messages([message])
        if message.error:
            raise InvalidInput(message.error, field="body_html")
        message.due_at, message.message_id = clock.now(), new_message_id()
        message.save(update_fields=["subject", "body_text", "body_html", "headers",
                                    "language", "message_id", "due_at"])
    transaction.on_commit(_kick_outbox)
    return message
