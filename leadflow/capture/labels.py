"""Sources and consent methods `form:<slug>` read "Form: <the form's name>"."""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from leadflow.capture.models import Form
from leadflow.leads.labels import register_source_prefix
from leadflow.tracking.events import Props, describe_with
from leadflow.tracking.models import EventType

# slug -> name, loaded in one query (a list page names many sources); kept a minute, and
# dropped when a form of this process changes, so a renamed form reads right at once here.
_TTL = 60.0
_names: dict[str, str] = {}
_loaded_at = 0.0


def form_name(slug: str) -> str | None:
    global _names, _loaded_at
    if time.monotonic() - _loaded_at > _TTL:
        _names = dict(Form.objects.values_list("slug", "name"))
        _loaded_at = time.monotonic()
    return _names.get(slug)


def forget_names(**_: object) -> None:
    global _loaded_at
    _loaded_at = 0.0


def _form_detail(p: Props) -> str:
    slug = str(p.get("form") or "")
    return (form_name(slug) or slug) if slug else ""


def register() -> None:
    register_source_prefix("form", lambda: _("Form"), form_name)
    # The timeline names the form a lead submitted or confirmed by its name, not its slug.
    for type in (EventType.FORM_SUBMITTED, EventType.OPTIN_CONFIRMED):
        describe_with(type, detail=_form_detail)
    post_save.connect(forget_names, sender=Form, dispatch_uid="capture.labels.saved")
    post_delete.connect(forget_names, sender=Form, dispatch_uid="capture.labels.deleted")
