from django.utils.translation import gettext as _
from ninja import Router, Schema

from leadflow.capture import builder, services
from leadflow.capture.models import Form
from leadflow.core.errors import Forbidden
from leadflow.core.responses import answers

router = Router(tags=["forms"])


class FormOut(Schema):
    id: int
    name: str
    slug: str
    title: str
    event_type: str
    active: bool
    double_opt_in: bool
    progressive_profiling: bool
    consent_version: str
    hosted_url: str
    definition_url: str
    embed_script_url: str


@router.get("", response=answers(list[FormOut]),
            summary="List the capture forms (admin, marketing)")
def list_forms(request):
    if not builder.can_build(request.user):
        raise Forbidden(_("Only administrators and marketers may list forms."))
    return [FormOut(id=f.pk, name=f.name, slug=f.slug, title=f.title, event_type=f.event_type,
                    active=f.active, double_opt_in=f.double_opt_in,
                    progressive_profiling=f.progressive_profiling,
                    consent_version=f.consent_version, hosted_url=services.public_url(f),
                    definition_url=services.public_url(f, "definition"),
                    embed_script_url=services.public_url(f, "embed_js"))
            for f in Form.objects.all()]
