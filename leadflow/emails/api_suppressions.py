"""`/api/v1/emails/suppressions`: the suppression list (admins and marketing, see
`emails.suppression_list`). Mounted by server/api.py on the emails prefix."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from leadflow.core.params import Pagination
from leadflow.core.responses import answers
from leadflow.emails import suppression_list
from leadflow.emails.models import Suppression

router = Router(tags=["emails"])


class SuppressionOut(Schema):
    address: str | None = Field(description="null once the person was erased: only the "
                                            "hash is kept")
    address_hash: str = Field(description="Keyed hash of the normalised address")
    reason: str = Field(description="hard_bounce | soft_bounces | complaint | unsubscribed "
                                    "| manual")
    note: str
    created_at: datetime
    created_by: str | None = Field(description="Who added it (null: Leadflow itself)")

    @staticmethod
    def resolve_address(row: Suppression) -> str | None:
        return row.address or None

    @staticmethod
    def resolve_created_by(row: Suppression) -> str | None:
        return row.created_by.get_username() if row.created_by else None


class SuppressionsIn(Schema):
    addresses: list[str] = Field(min_length=1, max_length=suppression_list.MAX_ADD,
                                 description="One or more addresses")
    reason: str = Field(Suppression.Reason.MANUAL, description="manual (default), "
                        "hard_bounce, soft_bounces, complaint or unsubscribed")
    note: str = Field("", max_length=300)


class AddedOut(Schema):
    index: int = Field(description="The address's place in `addresses`")
    address: str = Field(description="As normalised (as given, when invalid)")
    status: str = Field(description="added | already (on the list before: its first reason "
                                    "is kept) | invalid")
    message: str


class AddOut(Schema):
    added: int
    already: int
    invalid: int
    results: list[AddedOut]


@router.get("/suppressions", response=answers(list[SuppressionOut], 422),
            summary="The suppression list, newest first; ?address= checks one address "
                    "(found by its hash: one item, or none)")
@paginate(Pagination)
def list_suppressions(request, address: str = ""):
    return suppression_list.rows(request.user, address=address)


@router.post("/suppressions", response=answers(AddOut, 413, 422),
             summary="Add one or more addresses (each answered on its own: an invalid one "
                     "does not stop the others)")
def add_suppressions(request, payload: SuppressionsIn):
    results = suppression_list.add(request.user, payload.addresses, reason=payload.reason,
                                   note=payload.note)
    counts = {s: sum(r.status == s for r in results) for s in ("added", "already", "invalid")}
    return {**counts, "results": results}


@router.delete("/suppressions", response=answers({204: None}, 404, 422),
               summary="Take an address off the list (?address=, or ?hash= for an erased "
                       "person's row): it may be emailed again")
def remove_suppression(request, address: str = "", hash: str = ""):  # noqa: A002
    suppression_list.remove(request.user, address=address, digest=hash)
    return Status(204, None)
