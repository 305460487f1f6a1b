"""Who a form's answer is about: every form keeps a required email or phone field, and a
question mapped to a custom field asks in a type that fits the field's type."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from leadflow.capture.models import FormField
from leadflow.leads.models import CustomFieldDefinition

IDENTITY_FIELDS = ("email", "phone")



def missing_message() -> str:
    return _("A form needs a required email or phone field: without one, an answer cannot "
             "become a lead. Add one (mapped to Email or Phone, required) first.")


def last_message() -> str:
    return _("This is the form's last required email or phone field: a form needs one, or "
             "its answers cannot become leads. Add another one before removing it or making "
             "it optional.")


def identifies(field: FormField) -> bool:
    """True for a required email or phone question every visitor is asked."""
    return (field.lead_field in IDENTITY_FIELDS and field.required and not field.extra
            and field.type != FormField.Type.HIDDEN)


def has_identity(fields: Iterable[FormField]) -> bool:
    return any(identifies(f) for f in fields)


CFD = CustomFieldDefinition.Type
T = FormField.Type
# The question types that store a value of each custom field type; the first is the one
# a question gets when its type does not fit.
FITTING = {
    CFD.TEXT: (T.TEXT, T.TEXTAREA, T.SELECT, T.MULTI_SELECT, T.HIDDEN, T.EMAIL, T.PHONE),
    CFD.NUMBER: (T.NUMBER, T.HIDDEN),
    CFD.BOOLEAN: (T.CHECKBOX,),
    CFD.DATE: (T.DATE, T.HIDDEN),
    CFD.CHOICE: (T.SELECT, T.HIDDEN),
}
# The custom field type a new question of each type creates.
QUESTION_TYPES = {
    T.TEXT: CFD.TEXT, T.TEXTAREA: CFD.TEXT, T.NUMBER: CFD.NUMBER, T.SELECT: CFD.CHOICE,
    T.DATE: CFD.DATE, T.CHECKBOX: CFD.BOOLEAN,
}


def fitting_type(definition: CustomFieldDefinition, wanted: str) -> str:
    """`wanted` when it stores a value of the definition's type, else the usual type."""
    allowed = FITTING.get(CFD(definition.type), (T.TEXT,))
    return wanted if wanted in allowed else allowed[0]
