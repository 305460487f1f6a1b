"""Django forms parsing the builder's and quick add's posts (the services validate)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from leadflow.capture.models import Form, FormField
from leadflow.leads.models import Channel, CustomFieldDefinition


class FormSettingsForm(forms.ModelForm):
    remove_file = forms.BooleanField(label=_("Remove the file"), required=False)

    class Meta:
        model = Form
        fields = ["name", "slug", "title", "intro", "event_type", "channel", "source",
                  "consent_text", "thank_you", "redirect_url", "allowed_domains",
                  "lead_magnet", "progressive_profiling", "double_opt_in", "active"]
        widgets = {"intro": forms.Textarea(attrs={"rows": 2}),
                   "consent_text": forms.Textarea(attrs={"rows": 2}),
                   "thank_you": forms.Textarea(attrs={"rows": 2}),
                   "allowed_domains": forms.Textarea(attrs={"rows": 2}),
                   "channel": forms.Select(choices=Channel.choices),
                   "redirect_url": forms.TextInput(attrs={"inputmode": "url"})}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["title"].required = False
        self.fields["allowed_domains"].help_text = _("One host name per line; example.com "
                                                     "also allows its subdomains.")

    def _post_clean(self) -> None:
        pass  # the service validates and saves (consent versions, redirect domains)

    def validate_unique(self) -> None:
        pass


class FieldForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=60, required=False)
    lead_field = forms.ChoiceField(label=_("Lead field"), required=False,
                                   choices=[("", "—"), *FormField.LeadField.choices])
    custom_field = forms.ModelChoiceField(label=_("Custom field"), required=False,
                                          queryset=CustomFieldDefinition.objects.all())
    type = forms.ChoiceField(label=_("Type"), choices=FormField.Type.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(label=_("Choices (one per line)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    extra = forms.BooleanField(label=_("Progressive question (asked when others are known)"),
                               required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"label_{code}"] = forms.CharField(
                label=_("Label (%(language)s)") % {"language": name}, required=False,
                max_length=300)

    @classmethod
    def initial_for(cls, field: FormField) -> dict[str, Any]:
        initial = {"key": field.key, "lead_field": field.lead_field,
                   "custom_field": field.custom_field_id, "type": field.type,
                   "required": field.required, "extra": field.extra,
                   "choices": "\n".join(field.choices or [])}
        for code, label in (field.labels or {}).items():
            initial[f"label_{code}"] = label
        return initial

    def data_for_service(self) -> tuple[dict[str, Any], int | None]:
        d = self.cleaned_data
        labels = {code: d[f"label_{code}"].strip() for code, _name in settings.LANGUAGES
                  if d.get(f"label_{code}", "").strip()}
        choices = [c.strip() for c in d["choices"].splitlines() if c.strip()]
        data = {"key": d["key"], "lead_field": d["lead_field"], "type": d["type"],
                "required": d["required"], "extra": d["extra"], "choices": choices,
                "labels": labels}
        return data, d["custom_field"].pk if d["custom_field"] else None


class QuickAddForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    company_name = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices,
                                initial=Channel.EVENT)
    source = forms.CharField(label=_("Source"), max_length=100, required=False,
                             help_text=_("e.g. the trade show's name"))
    note = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}))
