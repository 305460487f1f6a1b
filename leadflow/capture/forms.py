"""Django forms parsing the builder's and quick add's posts (the services validate)."""

from __future__ import annotations

import gettext
import unicodedata
from typing import Any

import phonenumbers
import pycountry
from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from leadflow.capture.models import Form, FormField
from leadflow.leads.models import Channel, CustomFieldDefinition

TEXT_LABELS = {"title": _("Title"), "intro": _("Introduction"),
               "consent_text": _("Consent text"), "thank_you": _("Thank-you message"),
               "submit_label": _("Submit button")}
LONG_TEXTS = ("intro", "consent_text", "thank_you")


def country_choices() -> list[tuple[str, str]]:
    """The countries phone numbers can be read for, named in the current language."""
    names = gettext.translation("iso3166-1", pycountry.LOCALES_DIR,
                                languages=[translation.get_language() or "en"], fallback=True)
    choices = [(c.alpha_2, names.gettext(getattr(c, "common_name", None) or c.name))
               for c in pycountry.countries if c.alpha_2 in phonenumbers.SUPPORTED_REGIONS]

    def fold(item: tuple[str, str]) -> str:
        return unicodedata.normalize("NFKD", item[1]).encode("ascii", "ignore").decode().lower()

    default = settings.DEFAULT_COUNTRY
    blank = (_("— Installation default (%(code)s) —") % {"code": default} if default
             else _("— None —"))
    return [("", str(blank)), *sorted(choices, key=fold)]


class FormSettingsForm(forms.ModelForm):
    remove_file = forms.BooleanField(label=_("Remove the file"), required=False)
    bands_text = forms.CharField(
        label=_("Result bands (assessment)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One band per line: lowest score | English title | French title | English "
                    "recommendations | French recommendations; recommendations separated by "
                    "“ ; ”. E.g. 0 | Getting started | Premiers pas | Write your lead "
                    "definition ; Map your funnel | Écrivez votre définition du lead"))
    default_country = forms.ChoiceField(
        label=_("Default country for phone numbers"), required=False,
        help_text=_("Reads numbers typed without their +country code, e.g. 06 12 34 56 78 in "
                    "France. With none, such numbers are kept as typed and flagged."))

    class Meta:
        model = Form
        # Short inputs in fours (two rows of the grid), long texts across the grid.
        fields = ["name", "slug", "title", "submit_label", "intro", "thank_you",
                  "consent_text", "event_type", "channel", "source", "default_country",
                  "redirect_url", "lead_magnet", "allowed_domains", "progressive_profiling",
                  "double_opt_in", "active", "kind"]
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
        self.fields["kind"].required = False  # a plain form unless said otherwise
        self.fields["allowed_domains"].help_text = _("One host name per line; example.com "
                                                     "also allows its subdomains.")
        self.fields["default_country"].choices = country_choices()  # type: ignore[attr-defined]
        order = list(self.Meta.fields)
        order.insert(order.index("lead_magnet") + 1, "remove_file")
        self.order_fields(order)
        if not self.instance.lead_magnet:
            del self.fields["remove_file"]  # nothing to remove
        if self.instance.pk:
            from leadflow.capture.assessment import bands_text

            self.fields["bands_text"].initial = bands_text(self.instance.bands or [])
        translations = (self.instance.translations if self.instance.pk
                        and isinstance(self.instance.translations, dict) else {})
        for code, language in settings.LANGUAGES:
            for name in Form.TEXTS:
                # Each language's box is named with its language: "Title (Français)",
                # so that a screen reader tells the three "Title" boxes apart.
                named = {"aria-label": format_lazy("{} ({})", TEXT_LABELS[name], language)}
                widget = (forms.Textarea(attrs={"rows": 2, **named}) if name in LONG_TEXTS
                          else forms.TextInput(attrs=named))
                self.fields[f"{name}_{code}"] = forms.CharField(
                    label=TEXT_LABELS[name], required=False, widget=widget,
                    initial=(translations.get(code) or {}).get(name, ""))
                self.fields[f"{name}_{code}"].language = language  # type: ignore[attr-defined]

    SECTIONS = [(_("The form"), ["name", "slug", "title", "submit_label", "intro",
                                 "thank_you", "consent_text"]),
                (_("The leads it makes"), ["event_type", "channel", "source",
                                           "default_country", "progressive_profiling",
                                           "double_opt_in", "active"]),
                (_("After the submit"), ["redirect_url", "lead_magnet", "remove_file",
                                         "allowed_domains"]),
                (_("Assessment"), ["kind", "bands_text"])]

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(str(title), [self[name] for name in names if name in self.fields])
                for title, names in self.SECTIONS]

    def language_groups(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(code, language name, its text fields) for the per-language section."""
        return [(code, str(language), [self[f"{name}_{code}"] for name in Form.TEXTS])
                for code, language in settings.LANGUAGES]

    def _translation_names(self) -> set[str]:
        return {f"{name}_{code}" for name in Form.TEXTS for code, _l in settings.LANGUAGES}

    def translations(self) -> dict[str, dict[str, str]]:
        d = self.cleaned_data
        return {code: {name: d[f"{name}_{code}"] for name in Form.TEXTS
                       if d.get(f"{name}_{code}", "").strip()}
                for code, _language in settings.LANGUAGES}

    def _post_clean(self) -> None:
        pass  # the service validates and saves (consent versions, redirect domains)

    def validate_unique(self) -> None:
        pass


class FieldForm(forms.Form):
    lead_field = forms.ChoiceField(label=_("Lead field"), required=False,
                                   choices=[("", "—"), *FormField.LeadField.choices])
    custom_field = forms.ModelChoiceField(label=_("Custom field"), required=False,
                                          queryset=CustomFieldDefinition.objects.all(),
                                          empty_label="—")
    type = forms.ChoiceField(label=_("Type"), choices=FormField.Type.choices)
    key = forms.SlugField(label=_("Key"), max_length=60, required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(label=_("Choices (one per line)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    extra = forms.BooleanField(label=_("Progressive question (asked when others are known)"),
                               required=False)
    answers = forms.CharField(
        label=_("Weighted answers (assessment)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One answer per line: value | points | English label | French label | "
                    "fields it sets. E.g. yes | 10 | Yes | Oui | budget=yes. A question with "
                    "answers needs no lead field; its type is Select."))

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
        if field.answers:
            from leadflow.capture.assessment import answers_text

            initial["answers"] = answers_text(field.answers)
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
                "labels": labels, "answers_text": d["answers"]}
        return data, d["custom_field"].pk if d["custom_field"] else None


QUESTION_TYPES = [(FormField.Type.TEXT, _("Text")), (FormField.Type.TEXTAREA, _("Long text")),
                  (FormField.Type.NUMBER, _("Number")), (FormField.Type.SELECT, _("Choice")),
                  (FormField.Type.DATE, _("Date")), (FormField.Type.CHECKBOX, _("Yes/no"))]


class QuestionForm(forms.Form):
    """A new question stored in a custom field the builder declares ("Team size")."""

    type = forms.ChoiceField(label=_("Answer"), choices=QUESTION_TYPES)
    choices = forms.CharField(label=_("Choices (one per line)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    key = forms.SlugField(label=_("Key (optional)"), max_length=60, required=False,
                          help_text=_("Names the custom field in segments, scoring, exports "
                                      "and the API; made from the label when empty."))
    required = forms.BooleanField(label=_("Required"), required=False)
    extra = forms.BooleanField(label=_("Progressive question (asked when others are known)"),
                               required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        labels = {}
        for code, name in settings.LANGUAGES:
            labels[f"label_{code}"] = forms.CharField(
                label=_("Question (%(language)s)") % {"language": name}, required=False,
                max_length=300)
        self.fields = {**labels, **self.fields}

    def data_for_service(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"labels": {code: d[f"label_{code}"] for code, _n in settings.LANGUAGES},
                "type": d["type"], "key": d["key"], "required": d["required"],
                "extra": d["extra"],
                "choices": [c.strip() for c in d["choices"].splitlines() if c.strip()]}


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
