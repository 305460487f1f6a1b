"""The form builder: forms, their fields and consent versions, for admins and marketers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import phonenumbers
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leadflow.capture import assessment, fields, identity, services
from leadflow.capture.models import Form, FormConsentVersion, FormField
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, contains_nul
from leadflow.leads.models import BANT_FIELDS, Channel, CustomFieldDefinition
from leadflow.tracking.events import Recorder, refusal

if TYPE_CHECKING:
    from leadflow.accounts.models import User

FORM_SETTINGS = ("name", "slug", "title", "intro", "event_type", "consent_text", "thank_you",
                 "redirect_url", "allowed_domains", "progressive_profiling", "double_opt_in",
                 "channel", "source", "active", "submit_label", "default_country",
                 "translations", "kind", "bands")
MAX_MAGNET_BYTES = 50 * 1024 * 1024


def can_build(user: User) -> bool:
    from leadflow.accounts.permissions import CHANGE, may

    return may(user, CHANGE, "forms")


def ensure_builder(user: User) -> None:
    if not can_build(user):
        raise Forbidden(_("Only administrators and marketers may manage forms."))


@transaction.atomic
def save_form(user: User, form: Form | None, data: dict[str, Any],
              upload: UploadedFile | None = None, *, remove_file: bool = False) -> Form:
    """Create (form=None) or change a form. A new consent text becomes a new consent
    version (the old ones stay); a redirect must be on one of the allowed domains.
    Raises Forbidden for other roles, InvalidInput for a bad value."""
    ensure_builder(user)
    form = form or Form()
    if contains_nul(data):
        raise InvalidInput(_("A value contains a NUL character."))
    old_texts = consent_texts(form) if form.pk else {}
    for name in FORM_SETTINGS:
        if name in data:
            setattr(form, name, data[name])
    form.slug = slugify(form.slug or form.name)[:50]
    if not form.name.strip() or not form.slug:
        raise InvalidInput(_("The form needs a name."), field="name")
    form.title = form.title or form.name
    if Form.objects.filter(slug=form.slug).exclude(pk=form.pk).exists():
        raise InvalidInput(_("Another form already uses the address %(slug)s.")
                           % {"slug": form.slug}, field="slug")
    if form.channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), field="channel")
    # Anyone may post a public form: it may record only what a page may send.
    if form.event_type and (refused := refusal(form.event_type, Recorder.PAGE)):
        raise InvalidInput(_("%(refused)s Choose another event type for a public form.")
                           % {"refused": refused},
                           field="event_type")
    form.default_country = (form.default_country or "").strip().upper()
    if form.default_country and form.default_country not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(_("Unknown country code %(code)s.") % {"code": form.default_country},
                           field="default_country")
    form.translations = _clean_translations(form.translations)
    if "bands_text" in data:
        form.bands = assessment.parse_bands(data["bands_text"])
    form.kind = form.kind or Form.Kind.STANDARD
    if form.kind not in Form.Kind.values:
        raise InvalidInput(_("Unknown type of form."), field="kind")
    if not isinstance(form.bands, list):
        raise InvalidInput(_("The result bands are not valid."), field="bands_text")
    if form.pk and not identity.has_identity(fields.all_fields(form)):
        raise InvalidInput(identity.missing_message(), field=None)
    if form.redirect_url and not services.safe_redirect(form):
        raise InvalidInput(_("The redirect must be an http(s) address on one of the allowed "
                           "domains."), field="redirect_url")
    if upload is not None:
        if upload.size and upload.size > MAX_MAGNET_BYTES:
            raise InvalidInput(_("The file is larger than 50 MB."), field="lead_magnet")
        form.lead_magnet.save(upload.name or "file", upload, save=False)
    elif remove_file:
        form.lead_magnet = ""  # type: ignore[assignment]
    new_texts = consent_texts(form)
    changed = new_texts != old_texts and bool(new_texts)
    if changed:
        form.consent_version = f"v{_next_version(form)}"
    created = form.pk is None
    form.save()
    if changed:
        now = clock.now()
        FormConsentVersion.objects.bulk_create(
            FormConsentVersion(form=form, version=form.consent_version, language=language,
                               text=text, created_at=now)
            for language, text in new_texts.items())
    if created:
        # A new form starts with the fields a form without fields asks (a required email
        # first): adding a question keeps them instead of replacing them.
        _materialise_defaults(form)
    return form


def consent_texts(form: Form) -> dict[str, str]:
    """The consent texts a form shows, by language ("" for its own text), stripped."""
    texts = {"": form.consent_text.strip()} if form.consent_text.strip() else {}
    for code, values in sorted((form.translations or {}).items()):
        text = str((values or {}).get("consent_text") or "").strip()
        if text:
            texts[code] = text
    return texts


TEXT_LIMITS = {"title": 200, "intro": 5000, "consent_text": 5000, "thank_you": 5000,
               "submit_label": 60}


def _clean_translations(value: Any) -> dict[str, dict[str, str]]:
    """{"fr": {"title": ...}} with known languages and texts only, empty texts dropped."""
    if not isinstance(value, dict):
        raise InvalidInput(_("The texts per language are not valid."), field="translations")
    codes = {code for code, _name in settings.LANGUAGES}
    clean: dict[str, dict[str, str]] = {}
    for code, texts in value.items():
        if code not in codes or not isinstance(texts, dict):
            raise InvalidInput(_("The texts per language are not valid."), field="translations")
        kept = {}
        for name, text in texts.items():
            if name not in Form.TEXTS or not isinstance(text, str):
                raise InvalidInput(_("The texts per language are not valid."),
                                   field="translations")
            if len(text.strip()) > TEXT_LIMITS[name]:
                raise InvalidInput(_("This text is longer than %(limit)d characters.")
                                   % {"limit": TEXT_LIMITS[name]}, field=f"{name}_{code}")
            if text.strip():
                kept[name] = text.strip()
        if kept:
            clean[code] = kept
    return clean


def _materialise_defaults(form: Form) -> None:
    if not form.fields.exists():
        FormField.objects.bulk_create(fields.default_fields(form))


def _next_version(form: Form) -> int:
    if not form.pk:
        return 1
    return form.consent_versions.values("version").distinct().count() + 1


FIELD_SETTINGS = ("key", "lead_field", "type", "required", "choices", "labels", "extra",
                  "answers")


@transaction.atomic
def save_field(user: User, form: Form, field: FormField | None, data: dict[str, Any],
               custom_field_id: int | None = None) -> FormField:
    """Add (field=None, at the end) or change a question of `form`: mapped to exactly one
    lead field or declared custom field. Raises Forbidden, InvalidInput."""
    ensure_builder(user)
    if contains_nul(data):
        raise InvalidInput(_("A value contains a NUL character."))
    _materialise_defaults(form)
    field = field or FormField(form=form)
    had_identity = identity.has_identity(fields.all_fields(form))
    for name in FIELD_SETTINGS:
        if name in data:
            setattr(field, name, data[name])
    field.custom_field = (CustomFieldDefinition.objects.filter(pk=custom_field_id).first()
                          if custom_field_id else None)
    if custom_field_id and field.custom_field is None:
        raise InvalidInput(_("Unknown custom field."), field="custom_field")
    if "answers_text" in data:
        field.answers = assessment.parse_answers(data["answers_text"])
    if field.answers:
        _check_answers(form, field)
    if field.answers and not (field.lead_field or field.custom_field):
        pass  # an assessment question: its answer is scored, and may set fields
    elif bool(field.lead_field) == bool(field.custom_field):
        raise InvalidInput(_("Map the field to one lead field or one custom field."),
                           field="lead_field")
    if field.lead_field and field.lead_field not in FormField.LeadField.values:
        raise InvalidInput(_("Unknown lead field."), field="lead_field")
    if field.type not in FormField.Type.values:
        raise InvalidInput(_("Unknown field type."), field="type")
    if field.custom_field is not None:
        field.type = identity.fitting_type(field.custom_field, field.type)
    if field.answers or (field.lead_field in BANT_FIELDS and field.type not in (
            FormField.Type.SELECT, FormField.Type.CHECKBOX, FormField.Type.HIDDEN)):
        # Yes/no, a timing or weighted answers: one choice among known values.
        field.type = FormField.Type.SELECT
    first_label = next(iter((field.labels or {}).values()), "") if isinstance(
        field.labels, dict) else ""
    field.key = slugify(field.key or field.lead_field or
                        (field.custom_field.key if field.custom_field else "")
                        or str(first_label))[:60].replace("-", "_").strip("_")
    if not field.key or field.key in ("consent", "page_url", "lf_vid", "lf_token",
                                      services.HONEYPOT, *services.UTM):
        raise InvalidInput(_("Choose another key: this one is reserved."), field="key")
    if (FormField.objects.filter(form=form, key=field.key).exclude(pk=field.pk).exists()):
        raise InvalidInput(_("The form already has a field %(key)s.")
                           % {"key": field.key}, field="key")
    if not isinstance(field.choices, list) or not all(isinstance(c, str) for c in field.choices):
        raise InvalidInput(_("Choices must be a list of texts."), field="choices")
    if field.type in (FormField.Type.SELECT, FormField.Type.MULTI_SELECT) and not (
            fields.choices(field) or (field.custom_field and field.custom_field.choices)):
        raise InvalidInput(_("A select needs choices."), field="choices")
    if not isinstance(field.labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in field.labels.items()):
        raise InvalidInput(_('Labels must look like {"en": "...", "fr": "..."}.'), field="labels")
    after = [f for f in form.fields.all() if f.pk != field.pk] + [field]
    if not identity.has_identity(after):
        raise InvalidInput(identity.last_message() if had_identity else identity.missing_message(),
                           field="required")
    if field.pk is None:
        field.position = (form.fields.aggregate(m=Max("position"))["m"] or 0) + 1
    field.save()
    return field


def _check_answers(form: Form, field: FormField) -> None:
    """Weighted answers belong to assessments, and what they set must be storable: a
    declared custom field, with a value it accepts."""
    from leadflow.leads.services import _clean_custom

    if not assessment.is_assessment(form):
        raise InvalidInput(_("Weighted answers belong to assessments: make the form an "
                             "assessment first (Settings)."), field="answers")
    for answer in field.answers:
        custom = {k.removeprefix("custom."): v for k, v in (answer.get("sets") or {}).items()
                  if k.startswith("custom.")}
        if custom:
            _clean_custom(custom)


@transaction.atomic
def delete_field(user: User, field: FormField) -> None:
    """Remove a question; never the form's last required email or phone field."""
    ensure_builder(user)
    others = list(FormField.objects.filter(form_id=field.form_id).exclude(pk=field.pk))
    if identity.identifies(field) and not identity.has_identity(others):
        raise InvalidInput(identity.last_message(), field="required")
    field.delete()


@transaction.atomic
def move_field(user: User, field: FormField, step: int) -> None:
    """Move a field one place up (step=-1) or down (+1): positions are renumbered 1..n."""
    ensure_builder(user)
    fields = list(FormField.objects.select_for_update().filter(form_id=field.form_id)
                  .order_by("position", "id"))
    index = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    target = max(0, min(len(fields) - 1, index + step))
    fields.insert(target, fields.pop(index))
    for position, item in enumerate(fields, start=1):
        item.position = position
    FormField.objects.bulk_update(fields, ["position"])


@transaction.atomic
def add_question(user: User, form: Form, data: dict[str, Any]) -> FormField:
    """Add a question that is not a lead field ("Team size"): it declares the custom field
    (leads.CustomFieldDefinition: key, label, type, choices) that stores the answer in
    lead.custom, where segments and scoring can use it, and asks it at the end of the form.
    `data`: labels ({lang: text}, one at least), type (text, textarea, number, select,
    date, checkbox), choices (for a select), key (default: from the label), required,
    extra. Raises Forbidden, InvalidInput."""
    ensure_builder(user)
    if contains_nul(data):
        raise InvalidInput(_("A value contains a NUL character."))
    labels = {code: str(text).strip() for code, text in (data.get("labels") or {}).items()
              if str(text).strip()}
    first = settings.LANGUAGE_CODE.split("-")[0]
    label = labels.get(first) or next(iter(labels.values()), "")
    if not label:
        raise InvalidInput(_("Give the question a label."), field=f"label_{first}")
    if len(label) > 100:
        raise InvalidInput(_("The label is longer than 100 characters."), field=f"label_{first}")
    kind = data.get("type") or FormField.Type.TEXT
    if kind not in identity.QUESTION_TYPES:
        raise InvalidInput(_("Choose the kind of answer."), field="type")
    choices = [str(c).strip() for c in data.get("choices") or [] if str(c).strip()]
    if kind == FormField.Type.SELECT and not choices:
        raise InvalidInput(_("A choice question needs its choices, one per line."),
                           field="choices")
    key = slugify(data.get("key") or label).replace("-", "_")[:60].strip("_")
    if not key:
        raise InvalidInput(_("Give the question a key (letters, digits, _)."), field="key")
    if CustomFieldDefinition.objects.filter(key=key).exists():
        raise InvalidInput(_("A custom field %(key)s already exists: re-use it with “Add a "
                             "lead field or an existing custom field”, or give this question "
                             "another key.") % {"key": key}, field="key")
    definition = CustomFieldDefinition.objects.create(
        key=key, label=label, type=identity.QUESTION_TYPES[kind],
        choices=choices if kind == FormField.Type.SELECT else [], labels=labels)
    return save_field(user, form, None,
                      {"key": key, "lead_field": "", "type": kind,
                       "required": bool(data.get("required")), "extra": bool(data.get("extra")),
                       "choices": [], "labels": labels}, definition.pk)
