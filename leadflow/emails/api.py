# No `from __future__ import annotations`: ninja reads the annotations at import time.
"""Email templates through the API (/api/v1/emails/templates): read and written by
administrators and marketing (docs/email.md, "Templates and rendering"). `body_html` holds
the MJML when `body_format` is `mjml`; an empty `body_text` is generated from the HTML."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.core.errors import NotFound
from leadflow.core.params import row_or_404
from leadflow.core.responses import answers
from leadflow.emails import editor
from leadflow.emails.models import EmailTemplate, EmailTemplateVersion
from leadflow.emails.starters import STARTERS

router = Router(tags=["emails"])


class VersionOut(Schema):
    language: str
    subject: str
    body_html: str
    body_text: str
    updated_at: datetime


class TemplateOut(Schema):
    id: int
    name: str
    subject: str
    body_format: str = Field(description="mjml | html")
    body_html: str = Field(description="The body: MJML or HTML, as body_format says")
    body_text: str = Field(description="The plain-text part; empty: generated from the HTML")
    language: str = Field(description="The language of these fields (the default version)")
    marketing: bool
    topic: int | None
    sender: int | None
    updated_at: datetime
    versions: list[VersionOut]

    @staticmethod
    def resolve_topic(template: EmailTemplate) -> int | None:
        return template.topic_id

    @staticmethod
    def resolve_sender(template: EmailTemplate) -> int | None:
        return template.sender_id

    @staticmethod
    def resolve_versions(template: EmailTemplate) -> list[EmailTemplateVersion]:
        return list(template.versions.all())


class TemplatePatch(Schema):
    name: str | None = None
    subject: str | None = None
    body_format: str | None = Field(None, description="mjml | html")
    body_html: str | None = None
    body_text: str | None = None
    language: str | None = Field(None, description="en | fr")
    marketing: bool | None = None
    topic: int | None = Field(None, description="An email topic's id (null: none)")
    sender: int | None = Field(None, description="A sender identity's id (null: default)")


class TemplateIn(TemplatePatch):
    name: str  # type: ignore[assignment]
    starter: str | None = Field(None, description="Start from a starter layout: "
                                + ", ".join(STARTERS))


class VersionIn(Schema):
    subject: str | None = None
    body_html: str | None = None
    body_text: str | None = None


class FindingOut(Schema):
    code: str = Field(description="missing_subject | template_syntax | missing_text | "
                                  "missing_unsubscribe | image_only | little_text | bad_link "
                                  "| unknown_name")
    message: str
    language: str
    blocking: bool = Field(description="true: the template is not saved until it is fixed")


class TemplateSaved(Schema):
    template: TemplateOut
    checks: list[FindingOut]


class VersionSaved(Schema):
    version: VersionOut
    checks: list[FindingOut]


class ChecksIn(VersionIn):
    language: str | None = Field(None, description="Check this version as changed by the "
                                 "other fields (default: every stored version)")


class TemplateLeadIn(Schema):
    lead_id: int = Field(description="A lead you may see: its data fills the template")
    language: str | None = Field(None, description="The version (default: the lead's)")


class PreviewOut(Schema):
    subject: str
    body_text: str
    body_html: str
    language: str


class TestSent(Schema):
    message_id: int
    to_email: str
    status: str


class StarterOut(Schema):
    key: str
    name: str
    description: str
    subject: str
    body_html: str


def _template(template_id: int) -> EmailTemplate:
    return row_or_404(EmailTemplate, template_id, _("No such email template."))


@router.get("/templates", response=answers(list[TemplateOut]), summary="List email templates")
def list_templates(request):
    editor.check_may_read(request.user)
    return list(EmailTemplate.objects.prefetch_related("versions"))


@router.get("/templates/starters", response=answers(list[StarterOut]),
            summary="The starter layouts a template may start from")
def list_starters(request):
    editor.check_may_read(request.user)
    return [{"key": s.key, "name": str(s.name), "description": str(s.description),
             "subject": s.subject, "body_html": s.body()} for s in STARTERS.values()]


@router.post("/templates", response=answers({201: TemplateSaved}, 409, 413, 422),
             summary="Create an email template (from a starter layout, or blank)")
def create_template(request, payload: TemplateIn):
    data = payload.dict(exclude_unset=True)
    starter = data.pop("starter", None) or ""
    template, findings = editor.save_template(request.user, editor.new_template(starter), data)
    return Status(201, {"template": template, "checks": findings})


@router.get("/templates/{template_id}", response=answers(TemplateOut, 404, 422),
            summary="An email template and its language versions")
def get_template(request, template_id: int):
    editor.check_may_read(request.user)
    return _template(template_id)


@router.patch("/templates/{template_id}", response=answers(TemplateSaved, 404, 409, 413, 422),
              summary="Change an email template (its default-language version)")
def update_template(request, template_id: int, payload: TemplatePatch):
    template, findings = editor.save_template(request.user, _template(template_id),
                                              payload.dict(exclude_unset=True))
    return {"template": template, "checks": findings}


@router.delete("/templates/{template_id}", response=answers({204: None}, 404, 409, 422),
               summary="Delete an email template and its versions")
def delete_template(request, template_id: int):
    editor.delete_template(request.user, _template(template_id))
    return Status(204, None)


@router.put("/templates/{template_id}/versions/{language}",
            response=answers(VersionSaved, 404, 413, 422),
            summary="Create or change the template's version in another language")
def put_version(request, template_id: int, language: str, payload: VersionIn):
    version, findings = editor.save_version(request.user, _template(template_id), language,
                                            payload.dict(exclude_unset=True))
    return {"version": version, "checks": findings}


@router.delete("/templates/{template_id}/versions/{language}",
               response=answers({204: None}, 404, 422),
               summary="Delete the template's version in a language")
def delete_version(request, template_id: int, language: str):
    if not editor.delete_version(request.user, _template(template_id), language):
        raise NotFound(_("The template has no %(language)s version.") % {"language": language})
    return Status(204, None)


@router.post("/templates/{template_id}/checks", response=answers(list[FindingOut], 404, 413,
                                                                 422),
             summary="The spam-check list: of the stored template, or of a version as the "
                     "given fields would change it (nothing saved)")
def template_checks(request, template_id: int, payload: ChecksIn):
    data = payload.dict(exclude_unset=True)
    language = data.pop("language", None)
    return editor.checks(request.user, _template(template_id), data, language=language)


@router.post("/templates/{template_id}/preview", response=answers(PreviewOut, 404, 413, 422),
             summary="The template rendered for a lead you may see (links not tracked, "
                     "nothing stored)")
def preview(request, template_id: int, payload: TemplateLeadIn):
    rendered = editor.preview(request.user, _template(template_id), payload.lead_id,
                              payload.language)
    return {"subject": rendered.subject, "body_text": rendered.text,
            "body_html": rendered.html, "language": rendered.language}


@router.post("/templates/{template_id}/test-send", response=answers({202: TestSent}, 404, 413,
                                                                    422),
             summary="Send the template, with a lead's data, to your own address (queued)")
def test_send(request, template_id: int, payload: TemplateLeadIn):
    message = editor.send_test(request.user, _template(template_id), payload.lead_id,
                               payload.language)
    return Status(202, {"message_id": message.pk, "to_email": message.to_email,
                        "status": message.status})
