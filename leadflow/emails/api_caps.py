"""`/api/v1/emails/frequency-caps`: at most so many marketing emails to a lead within so
many hours (all marketing email, or one campaign's). Read and written by admins and
marketing (the `email` row of the configuration table). Mounted by server/api.py."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadflow.core.params import row_or_404
from leadflow.core.responses import answers
from leadflow.emails import caps
from leadflow.emails.models import FrequencyCap

router = Router(tags=["emails"])


class CapOut(Schema):
    id: int
    campaign: int | None = Field(None, alias="campaign_id",
                                 description="The campaign it counts within; null: all "
                                             "marketing email")
    max_messages: int = Field(description="At most this many emails to a lead…")
    period_hours: int = Field(description="…within this many hours")
    when_reached: str = Field(description="skip: the email is not sent; wait: it goes when "
                                          "the period lets it")


class CapPatch(Schema):
    campaign: int | None = Field(None, description="A campaign id; null: all marketing email")
    max_messages: int | None = Field(None, description=f"1 to {caps.MAX_MESSAGES}")
    period_hours: int | None = Field(None, description=f"1 to {caps.MAX_PERIOD_HOURS}")
    when_reached: Literal["skip", "wait"] | None = None


class CapIn(CapPatch):
    max_messages: int = Field(description=f"1 to {caps.MAX_MESSAGES}")  # type: ignore[assignment]
    period_hours: int = Field(description=f"1 to {caps.MAX_PERIOD_HOURS}")  # type: ignore[assignment]
    when_reached: Literal["skip", "wait"] = "skip"  # type: ignore[assignment]


def _cap(cap_id: int) -> FrequencyCap:
    return row_or_404(FrequencyCap, cap_id, _("No such frequency cap."))


@router.get("/frequency-caps", response=answers(list[CapOut]),
            summary="List the frequency caps")
def list_caps(request):
    caps.check_may_view(request.user)
    return caps.all_caps()


@router.post("/frequency-caps", response=answers({201: CapOut}, 409, 413, 422),
             summary="Add a frequency cap (it holds from the next batch sent)")
def create_cap(request, payload: CapIn):
    return Status(201, caps.save_cap(request.user, None, payload.dict()))


@router.patch("/frequency-caps/{cap_id}", response=answers(CapOut, 404, 409, 413, 422),
              summary="Change a frequency cap (only the fields given)")
def update_cap(request, cap_id: int, payload: CapPatch):
    caps.check_may_edit(request.user)
    return caps.save_cap(request.user, _cap(cap_id), payload.dict(exclude_unset=True))


@router.delete("/frequency-caps/{cap_id}", response=answers({204: None}, 404, 422),
               summary="Delete a frequency cap")
def delete_cap(request, cap_id: int):
    caps.check_may_edit(request.user)
    caps.delete_cap(request.user, _cap(cap_id))
    return Status(204, None)
