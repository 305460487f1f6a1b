"""The form builder pages (/forms/, admins and marketers) and quick add (everyone)."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadflow.capture import abuse, builder, fields, identity, services, views
from leadflow.capture.forms import FieldForm, FormSettingsForm, QuestionForm, QuickAddForm
from leadflow.capture.models import Form, FormField
from leadflow.core.errors import Conflict, LeadflowError
from leadflow.core.http import AuthedRequest, allowed_only


def _forbidden(request: AuthedRequest, exc: LeadflowError) -> HttpResponse:
    return render(request, "error.html", {"error": exc.message, "status": exc.status},
                  status=exc.status)


_builder_only = allowed_only(
    builder.can_build, gettext_lazy("Only administrators and marketers may manage forms."))


@_builder_only
@require_safe
def form_list(request: AuthedRequest) -> HttpResponse:
    forms = [(form, services.public_url(form)) for form in Form.objects.all()]
    return render(request, "capture/builder/list.html", {"forms": forms})


def _edit_context(form: Form | None, settings_form: FormSettingsForm,
                  field_form: FieldForm | None = None,
                  question_form: QuestionForm | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"form_obj": form, "settings_form": settings_form}
    if form is not None and form.pk:
        # The snippets are pasted into the customer's pages: every value is escaped there,
        # and they stay plain text (not SafeString) so that this page escapes them again.
        url, slug, title = escape(services.public_url(form)), escape(form.slug), escape(form.title)
        rows = list(form.fields.select_related("custom_field"))
        keepers = [f for f in rows if identity.identifies(f)]
        lang = translation.get_language() or settings.LANGUAGE_CODE
        context.update(
            fields=[{"obj": f, "label": fields.label(f, lang),
                     "last_identity": keepers == [f]} for f in rows],
            has_identity=identity.has_identity(rows or fields.default_fields(form)),
            field_form=field_form or FieldForm(),
            question_form=question_form or QuestionForm(),
            preview_url=reverse("capture:form_preview", args=[form.pk]),
            versions=form.consent_versions.all()[:20],
            rejections=abuse.rejection_counts(form),
            hosted_url=services.public_url(form),
            snippet=str(f'<div data-leadflow-form="{slug}"></div>\n'
                        f'<script src="{url}embed.js" async></script>'),
            iframe=str(f'<iframe src="{url}?embed=1" title="{title}" '
                       f'style="width:100%;min-height:520px;border:0"></iframe>'))
    return context


@_builder_only
@require_http_methods(["GET", "HEAD", "POST"])
def form_edit(request: AuthedRequest, form_id: int | None = None) -> HttpResponse:
    form = get_object_or_404(Form, pk=form_id) if form_id else None
    if request.method != "POST":
        return render(request, "capture/builder/edit.html",
                      _edit_context(form, FormSettingsForm(instance=form)))
    bound = FormSettingsForm(request.POST, request.FILES, instance=form)
    if bound.is_valid():
        data = {k: v for k, v in bound.cleaned_data.items()
                if k in builder.FORM_SETTINGS}
        data["translations"] = bound.translations()
        data["bands_text"] = bound.cleaned_data.get("bands_text", "")
        try:
            saved = builder.save_form(request.user, form, data,
                                      request.FILES.get("lead_magnet"),
                                      remove_file=bound.cleaned_data.get("remove_file", False))
        except LeadflowError as exc:
            bound.add_error(exc.field if exc.field in bound.fields else None, exc.message)
        else:
            messages.success(request, _("Form saved."))
            return redirect("capture:form_edit", form_id=saved.pk)
    return render(request, "capture/builder/edit.html", _edit_context(form, bound), status=422)


@_builder_only
@require_POST
def field_add(request: AuthedRequest, form_id: int) -> HttpResponse:
    form = get_object_or_404(Form, pk=form_id)
    bound = FieldForm(request.POST)
    if bound.is_valid():
        data, custom_id = bound.data_for_service()
        try:
            builder.save_field(request.user, form, None, data, custom_id)
        except LeadflowError as exc:
            bound.add_error(exc.field if exc.field in bound.fields else None, exc.message)
        else:
            messages.success(request, _("Field added."))
            return redirect(reverse("capture:form_edit", args=[form.pk]) + "#fields")
    return render(request, "capture/builder/edit.html",
                  _edit_context(form, FormSettingsForm(instance=form), bound), status=422)


@_builder_only
@require_POST
def question_add(request: AuthedRequest, form_id: int) -> HttpResponse:
    """A new question with the custom field that stores its answers."""
    form = get_object_or_404(Form, pk=form_id)
    bound = QuestionForm(request.POST)
    if bound.is_valid():
        try:
            builder.add_question(request.user, form, bound.data_for_service())
        except LeadflowError as exc:
            bound.add_error(exc.field if exc.field in bound.fields else None, exc.message)
        else:
            messages.success(request, _("Question added."))
            return redirect(reverse("capture:form_edit", args=[form.pk]) + "#fields")
    return render(request, "capture/builder/edit.html",
                  _edit_context(form, FormSettingsForm(instance=form), question_form=bound),
                  status=422)


@_builder_only
@require_safe
@xframe_options_sameorigin  # shown in an iframe on the builder's own page
@csp_replace({"frame-ancestors": ["'self'"]})  # type: ignore[arg-type]
def form_preview(request: AuthedRequest, form_id: int) -> HttpResponse:
    """The hosted page as a visitor would see it (inactive forms too), not submittable."""
    form = get_object_or_404(Form, pk=form_id)
    lang = views.visitor_language(request)
    with translation.override(lang):
        specs = fields.shown_fields(form, None)
        return render(request, "capture/form.html", {
            "form": form, "texts": views.texts_for(form, lang), "preview": True,
            "hosted_url": services.public_url(form), "lang": lang, "honeypot": services.HONEYPOT,
            "utm": {}, "token": "", "fields": views.field_context(specs, lang, {})})


@_builder_only
@require_http_methods(["GET", "HEAD", "POST"])
def field_edit(request: AuthedRequest, form_id: int, field_id: int) -> HttpResponse:
    field = get_object_or_404(FormField, pk=field_id, form_id=form_id)
    if request.method != "POST":
        bound = FieldForm(initial=FieldForm.initial_for(field))
        return render(request, "capture/builder/field.html", {"field": field, "fform": bound})
    bound = FieldForm(request.POST)
    if bound.is_valid():
        data, custom_id = bound.data_for_service()
        try:
            builder.save_field(request.user, field.form, field, data, custom_id)
        except LeadflowError as exc:
            bound.add_error(exc.field if exc.field in bound.fields else None, exc.message)
        else:
            messages.success(request, _("Field saved."))
            return redirect(reverse("capture:form_edit", args=[form_id]) + "#fields")
    return render(request, "capture/builder/field.html", {"field": field, "fform": bound},
                  status=422)


@_builder_only
@require_POST
def field_delete(request: AuthedRequest, form_id: int, field_id: int) -> HttpResponse:
    field = get_object_or_404(FormField, pk=field_id, form_id=form_id)
    try:
        builder.delete_field(request.user, field)
    except LeadflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Field deleted."))
    return redirect(reverse("capture:form_edit", args=[form_id]) + "#fields")


@_builder_only
@require_POST
def field_move(request: AuthedRequest, form_id: int, field_id: int) -> HttpResponse:
    field = get_object_or_404(FormField, pk=field_id, form_id=form_id)
    builder.move_field(request.user, field, -1 if request.POST.get("direction") == "up" else 1)
    return redirect(reverse("capture:form_edit", args=[form_id]) + "#fields")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def quick_add(request: AuthedRequest) -> HttpResponse:
    """Type in a lead met at a trade show or on the phone."""
    if request.method != "POST":
        return render(request, "capture/quick_add.html", {"qform": QuickAddForm()})
    bound = QuickAddForm(request.POST)
    if bound.is_valid():
        try:
            lead, created = services.quick_add(request.user,
                                               services.QuickAdd(**bound.cleaned_data))
        except Conflict:  # quick add has no external id: the lead is another rep's
            messages.warning(request, _(
                "This lead already exists and is handled by another rep: nothing was "
                "changed. Its owner has been told and sees what you entered (and your "
                "note) on the lead's timeline."))
            return redirect("capture:quick_add")
        except LeadflowError as exc:
            bound.add_error(exc.field if exc.field in bound.fields else None, exc.message)
        else:
            messages.success(request, _("Lead added.") if created else
                             _("This lead already existed: it was updated."))
            return redirect("leads:detail", lead_id=lead.pk)
    return render(request, "capture/quick_add.html", {"qform": bound}, status=422)
