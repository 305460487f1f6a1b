"""The Stages page: every stage's name and written definition in the reader's language,
for marketing and sales alike (seed 003); admins and marketing edit them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, may
from leadflow.core.errors import Forbidden, NotFound
from leadflow.core.http import AuthedRequest, render_error
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import StageDefinition
from leadflow.lifecycle.services import edit_stage


@login_required
def stage_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "lifecycle/stages.html", {
        "stages": list(stages.definitions().values()), "reasons": stages.reasons(),
        "may_edit": may(request.user, CHANGE, "stages")})


class StageForm(forms.ModelForm):
    class Meta:
        model = StageDefinition
        fields = ["name_en", "name_fr", "definition_en", "definition_fr", "position", "kind",
                  "owned_by", "is_handoff", "is_closed", "reject_reset"]


@login_required
def stage_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    definition = StageDefinition.objects.filter(slug=slug).first()
    if definition is None:
        return render_error(request, NotFound(_("No such stage.")))
    form = StageForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        try:
            edit_stage(definition, form.cleaned_data, actor=request.user)
        except Forbidden as exc:
            return render_error(request, exc)
        messages.success(request, _("The stage is saved."))
        return redirect("stages:list")
    if not may(request.user, CHANGE, "stages"):
        return render_error(request, Forbidden(_("Only admins and marketing edit stages.")))
    return render(request, "lifecycle/stage_edit.html", {"form": form, "stage": definition})
