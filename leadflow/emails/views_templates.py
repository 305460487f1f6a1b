"""The template editor's pages (/emails/templates/, administrators and marketing): the
list, a template's form per language (MJML or HTML body, text part, subject, topic,
sender, marketing), its spam-check list, a preview with a real lead at desktop and mobile
widths, and a test sent to oneself. Every write is one `emails.editor` service."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadflow.accounts.permissions import VIEW, may
from leadflow.core.errors import LeadflowError
from leadflow.core.http import AuthedRequest, allowed_only, render_error
from leadflow.emails import editor
from leadflow.emails.models import EmailTemplate, SenderIdentity, Topic
from leadflow.emails.starters import STARTERS

_editors_only = allowed_only(
    lambda user: may(user, VIEW, "templates"),
    gettext_lazy("Only administrators and marketers may see email templates."))


@_editors_only
@require_safe
def template_list(request: AuthedRequest) -> HttpResponse:
    templates = EmailTemplate.objects.select_related("topic").prefetch_related("versions")
    return render(request, "emails/template_list.html", {
        "templates": templates, "starters": STARTERS.values()})


def _form(post: QueryDict, default_language: bool) -> dict[str, Any]:
    """The posted fields, as the services take them."""
    data: dict[str, Any] = {name: post.get(name, "")
                            for name in ("subject", "body_html", "body_text")}
    if default_language:
        data.update(name=post.get("name", ""), body_format=post.get("body_format", ""),
                    language=post.get("language", ""), marketing="marketing" in post)
        for name in ("topic", "sender"):
            value = post.get(name, "")
            data[name] = int(value) if value.isdigit() else None
    return data


def _page(request: AuthedRequest, template: EmailTemplate, language: str,
          form: dict[str, Any], status: int = 200, **extra: Any) -> HttpResponse:
    stored = template.versions.all() if template.pk else []
    return render(request, "emails/template_edit.html", {
        "template": template, "language": language, "form": form,
        "is_default": language == template.language, "versions": [v.language for v in stored],
        "languages": editor.languages(), "formats": EmailTemplate.Format.choices,
        "topics": Topic.objects.all(), "senders": SenderIdentity.objects.all(), **extra},
        status=status)


def _stored_form(template: EmailTemplate, language: str) -> dict[str, Any]:
    if language == template.language:
        return {"name": template.name, "subject": template.subject,
                "body_html": template.body_html, "body_text": template.body_text,
                "body_format": template.body_format, "language": template.language,
                "marketing": template.marketing, "topic": template.topic_id,
                "sender": template.sender_id}
    version = template.versions.filter(language=language).first() if template.pk else None
    return {"subject": version.subject if version else "",
            "body_html": version.body_html if version else template.body_html,
            "body_text": version.body_text if version else ""}


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def template_new(request: AuthedRequest) -> HttpResponse:
    """GET: the form, filled from a starter layout (`?starter=`) or blank; POST creates."""
    if request.method != "POST":
        template = editor.new_template(request.GET.get("starter", ""))
        return _page(request, template, template.language,
                     _stored_form(template, template.language))
    form = _form(request.POST, True)
    try:
        template, findings = editor.save_template(request.user, None, form)
    except LeadflowError as exc:
        blank = editor.new_template()
        return _page(request, blank, blank.language, form, status=exc.status,
                     error=exc.message, error_field=exc.field or "")
    messages.success(request, _("Template saved."))
    return redirect("emails:template_edit", template_id=template.pk)


@_editors_only
@require_http_methods(["GET", "HEAD", "POST"])
def template_edit(request: AuthedRequest, template_id: int) -> HttpResponse:
    """One language version's form (`?language=`, default: the template's own); POST
    `action=check` lists the spam checks of the form as typed (nothing saved),
    `action=save` saves it (refused while it does not compile), `action=delete` deletes
    that version."""
    template = get_object_or_404(EmailTemplate, pk=template_id)
    language = request.GET.get("language") or template.language
    if language not in editor.languages():
        language = template.language
    default = language == template.language
    if request.method != "POST":
        return _page(request, template, language, _stored_form(template, language),
                     findings=editor.checks(request.user, template, language=language))
    form = _form(request.POST, default)
    action = request.POST.get("action")
    try:
        if action == "delete" and not default:
            editor.delete_version(request.user, template, language)
            messages.success(request, _("Version deleted."))
            return redirect("emails:template_edit", template_id=template.pk)
        if action == "check":
            return _page(request, template, language, form, checked=True,
                         findings=editor.checks(request.user, template, form,
                                                language=language))
        if default:
            template, findings = editor.save_template(request.user, template, form)
        else:
            _version, findings = editor.save_version(request.user, template, language, form)
    except LeadflowError as exc:
        return _page(request, template, language, form, status=exc.status,
                     error=exc.message, error_field=exc.field or "")
    messages.success(request, _("Template saved."))
    url = reverse("emails:template_edit", args=[template.pk])
    return redirect(url if default else f"{url}?language={language}")


@_editors_only
@require_POST
def template_delete(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(EmailTemplate, pk=template_id)
    try:
        editor.delete_template(request.user, template)
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Template deleted."))
    return redirect("emails:templates")


# The email's own <style> (MJML's responsive rules) and its pictures, in the sandboxed
# frames of this page only: nothing in them may run a script.
@csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["https:", "http:"]})  # type: ignore[arg-type]
@_editors_only
@require_safe
def template_preview(request: AuthedRequest, template_id: int) -> HttpResponse:
    """The template rendered for a lead the user may see (`?lead=`, `?language=`), in
    frames 600 and 375 pixels wide, and the "send a test to me" button."""
    template = get_object_or_404(EmailTemplate, pk=template_id)
    leads = editor.preview_leads(request.user)
    raw = request.GET.get("lead", "")
    lead_id = int(raw) if raw.isdigit() else (leads[0].pk if leads else None)
    language = request.GET.get("language") or None
    context: dict[str, Any] = {"template": template, "leads": leads, "lead_id": lead_id,
                               "language": language or "", "languages": editor.languages()}
    if lead_id is not None:
        try:
            context["rendered"] = editor.preview(request.user, template, lead_id, language)
        except LeadflowError as exc:
            context.update(error=exc.message)
            return render(request, "emails/template_preview.html", context, status=exc.status)
    return render(request, "emails/template_preview.html", context)


@_editors_only
@require_POST
def template_test(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(EmailTemplate, pk=template_id)
    raw, language = request.POST.get("lead", ""), request.POST.get("language") or None
    try:
        message = editor.send_test(request.user, template, int(raw) if raw.isdigit() else 0,
                                   language)
    except LeadflowError as exc:
        return render_error(request, exc)
    messages.success(request, _("Test queued for %(address)s.") % {"address": message.to_email})
    url = reverse("emails:template_preview", args=[template.pk])
    return redirect(f"{url}?lead={message.lead_id}&language={language or ''}")
