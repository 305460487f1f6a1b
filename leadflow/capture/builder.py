"""The form builder: forms, their fields and consent versions, for admins and marketers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from leadflow.capture import services
from leadflow.capture.models import Form, FormConsentVersion, FormField
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, contains_nul
from leadflow.leads.models import Channel, CustomFieldDefinition
from leadflow.tracking.events import Recorder, refusal

if TYPE_CHECKING:
    from leadflow.accounts.models import User

FORM_SETTINGS = ("name", "slug", "title", "intro", "event_type", "consent_text", "thank_you",
                 "redirect_url", "allowed_domains", "progressive_profiling", "double_opt_in",
                 "channel", "source", "active")
MAX_MAGNET_BYTES = 50 * 1024 * 1024


def can_build(user: User) -> bool:
    from leadflow.accounts.permissions import CHANGE, may

    return may(user, CHANGE, "forms")


def ensure_builder(user: User) -> None:
    if not can_build(user):
        raise Forbidden("Only administrators and marketers may manage forms.")


@transaction.atomic
def save_form(user: User, form: Form | None, data: dict[str, Any],
              upload: UploadedFile | None = None, *, remove_file: bool = False) -> Form:
    """Create (form=None) or change a form. A new consent text becomes a new consent
    version (the old ones stay); a redirect must be on one of the allowed domains.
    Raises Forbidden for other roles, InvalidInput for a bad value."""
    ensure_builder(user)
    form = form or Form()
    if contains_nul(data):
        raise InvalidInput("A value contains a NUL character.")
    old_text = form.consent_text if form.pk else ""
    for name in FORM_SETTINGS:
        if name in data:
            setattr(form, name, data[name])
    form.slug = slugify(form.slug or form.name)[:50]
    if not form.name.strip() or not form.slug:
        raise InvalidInput("The form needs a name.", field="name")
    form.title = form.title or form.name
    if Form.objects.filter(slug=form.slug).exclude(pk=form.pk).exists():
        raise InvalidInput(f"Another form already uses the address {form.slug}.", field="slug")
    if form.channel not in Channel.values:
        raise InvalidInput("Unknown channel.", field="channel")
    # Anyone may post a public form: it may record only what a page may send.
    if form.event_type and (refused := refusal(form.event_type, Recorder.PAGE)):
        raise InvalidInput(f"{refused} Choose another event type for a public form.",
                           field="event_type")
    if form.redirect_url and not services.safe_redirect(form):
        raise InvalidInput("The redirect must be an http(s) address on one of the allowed "
                           "domains.", field="redirect_url")
    if upload is not None:
        if upload.size and upload.size > MAX_MAGNET_BYTES:
            raise InvalidInput("The file is larger than 50 MB.", field="lead_magnet")
        form.lead_magnet.save(upload.name or "file", upload, save=False)
    elif remove_file:
        form.lead_magnet = ""  # type: ignore[assignment]
    new_text = form.consent_text.strip() != old_text.strip() and form.consent_text.strip()
    if new_text:
        form.consent_version = f"v{_next_version(form)}"
    form.save()
    if new_text:
        FormConsentVersion.objects.create(form=form, version=form.consent_version,
                                          text=form.consent_text, created_at=clock.now())
    return form


def _next_version(form: Form) -> int:
    if not form.pk:
        return 1
    return form.consent_versions.count() + 1


FIELD_SETTINGS = ("key", "lead_field", "type", "required", "choices", "labels", "extra")


@transaction.atomic
def save_field(user: User, form: Form, field: FormField | None, data: dict[str, Any],
               custom_field_id: int | None = None) -> FormField:
    """Add (field=None, at the end) or change a question of `form`: mapped to exactly one
    lead field or declared custom field. Raises Forbidden, InvalidInput."""
    ensure_builder(user)
    if contains_nul(data):
        raise InvalidInput("A value contains a NUL character.")
    field = field or FormField(form=form)
    for name in FIELD_SETTINGS:
        if name in data:
            setattr(field, name, data[name])
    field.custom_field = (CustomFieldDefinition.objects.filter(pk=custom_field_id).first()
                          if custom_field_id else None)
    if custom_field_id and field.custom_field is None:
        raise InvalidInput("Unknown custom field.", field="custom_field")
    if bool(field.lead_field) == bool(field.custom_field):
        raise InvalidInput("Map the field to one lead field or one custom field.",
                           field="lead_field")
    if field.lead_field and field.lead_field not in FormField.LeadField.values:
        raise InvalidInput("Unknown lead field.", field="lead_field")
    if field.type not in FormField.Type.values:
        raise InvalidInput("Unknown field type.", field="type")
    field.key = slugify(field.key or field.lead_field or
                        (field.custom_field.key if field.custom_field else "")).replace("-", "_")
    if not field.key or field.key in ("consent", "page_url", "lf_vid", "lf_token",
                                      services.HONEYPOT, *services.UTM):
        raise InvalidInput("Choose another key: this one is reserved.", field="key")
    if (FormField.objects.filter(form=form, key=field.key).exclude(pk=field.pk).exists()):
        raise InvalidInput(f"The form already has a field {field.key}.", field="key")
    if not isinstance(field.choices, list) or not all(isinstance(c, str) for c in field.choices):
        raise InvalidInput("Choices must be a list of texts.", field="choices")
    if field.type in (FormField.Type.SELECT, FormField.Type.MULTI_SELECT) and not (
            field.choices or (field.custom_field and field.custom_field.choices)):
        raise InvalidInput("A select needs choices.", field="choices")
    if not isinstance(field.labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in field.labels.items()):
        raise InvalidInput('Labels must look like {"en": "...", "fr": "..."}.', field="labels")
    if field.pk is None:
        field.position = (form.fields.aggregate(m=Max("position"))["m"] or 0) + 1
    field.save()
    return field


@transaction.atomic
def delete_field(user: User, field: FormField) -> None:
    ensure_builder(user)
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
