"""`/api/v1/lists` (static lists of leads and their members) and `/api/v1/broadcasts`
(one-off sends and their report). Members are read and written within the caller's lead
scope: a lead outside it answers `not_found`, as one that does not exist."""

# No `from __future__ import annotations`: ninja reads the annotations at import time.
from datetime import datetime

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from leadflow.core.params import Pagination, utc
from leadflow.core.responses import answers
from leadflow.lists import broadcasts, services
from leadflow.lists.models import Broadcast, LeadList, ListMember

router = Router(tags=["lists"])
broadcasts_router = Router(tags=["broadcasts"])


class ListOut(Schema):
    id: int
    name: str
    description: str
    members: int = Field(description="Members you may see (your leads, for a sales rep)")
    created_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_members(row: LeadList) -> int:
        return getattr(row, "member_count", 0)

    @staticmethod
    def resolve_created_by(row: LeadList) -> str | None:
        return row.created_by.get_username() if row.created_by else None


class ListIn(Schema):
    name: str = Field(max_length=120)
    description: str = Field("", max_length=5000)


class ListPatch(Schema):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=5000)


class MemberOut(Schema):
    lead_id: int
    email: str | None
    name: str
    added_at: datetime

    @staticmethod
    def resolve_email(row: ListMember) -> str | None:
        return row.lead.email

    @staticmethod
    def resolve_name(row: ListMember) -> str:
        return f"{row.lead.first_name} {row.lead.last_name}".strip()


class MembersIn(Schema):
    lead_ids: list[int] = Field(default_factory=list, max_length=services.MAX_ITEMS,
                                description="Lead ids")
    emails: list[str] = Field(default_factory=list, max_length=services.MAX_ITEMS,
                              description="Lead email addresses")


class ItemOut(Schema):
    value: str = Field(description="The id or address as sent")
    status: str = Field(description="added | already | removed | not_member | not_found "
                                    "(no such lead, or not one you may see) | invalid")
    lead_id: int | None


class MembersResult(Schema):
    added: int
    already: int
    removed: int
    not_member: int
    not_found: int
    invalid: int
    results: list[ItemOut]


def _counted(user, list_id: int) -> LeadList:
    services.get_list(user, list_id)  # 404 first, with the list's own message
    return services.lists_with_counts(user).get(pk=list_id)


def _result(changes: services.MemberChanges) -> dict:
    statuses = ("added", "already", "removed", "not_member", "not_found", "invalid")
    return {**{s: changes.count(s) for s in statuses}, "results": changes.results}


@router.get("", response=answers(list[ListOut], 422), summary="Lists of leads")
@paginate(Pagination)
def list_lists(request):
    return services.lists_with_counts(request.user)


@router.post("", response=answers({201: ListOut}, 409, 413, 422),
             summary="Create a list of leads (empty)")
def create_list(request, payload: ListIn):
    created = services.create_list(request.user, name=payload.name,
                                   description=payload.description)
    return Status(201, _counted(request.user, created.pk))


@router.get("/{list_id}", response=answers(ListOut, 404, 422), summary="A list of leads")
def get_list(request, list_id: int):
    return _counted(request.user, list_id)


@router.patch("/{list_id}", response=answers(ListOut, 404, 409, 413, 422),
              summary="Rename a list or change its description (its creator, admins, "
                      "marketing)")
def update_list(request, list_id: int, payload: ListPatch):
    lead_list = services.get_list(request.user, list_id)
    services.update_list(request.user, lead_list, **payload.dict(exclude_unset=True))
    return _counted(request.user, list_id)


@router.delete("/{list_id}", response=answers({204: None}, 404, 409, 422),
               summary="Delete a list (its memberships, never the leads)")
def delete_list(request, list_id: int):
    services.delete_list(request.user, services.get_list(request.user, list_id))
    return Status(204, None)


@router.get("/{list_id}/members", response=answers(list[MemberOut], 404, 422),
            summary="The list's members you may see, newest first")
@paginate(Pagination)
def list_members(request, list_id: int):
    return services.members(request.user, services.get_list(request.user, list_id))


@router.post("/{list_id}/members", response=answers(MembersResult, 404, 413, 422),
             summary="Add leads to a list, by id or email (a result per item)")
def add_members(request, list_id: int, payload: MembersIn):
    lead_list = services.get_list(request.user, list_id)
    return _result(services.add_members(request.user, lead_list, lead_ids=payload.lead_ids,
                                        emails=payload.emails))


@router.delete("/{list_id}/members", response=answers(MembersResult, 404, 413, 422),
               summary="Take leads off a list, by id or email (a result per item)")
def remove_members(request, list_id: int, payload: MembersIn):
    lead_list = services.get_list(request.user, list_id)
    return _result(services.remove_members(request.user, lead_list,
                                           lead_ids=payload.lead_ids, emails=payload.emails))


# --- one-off sends --------------------------------------------------------------------

class ReportOut(Schema):
    queued: int = Field(description="Waiting in the outbox, or being sent")
    sent: int
    failed: int
    skipped: dict[str, int] = Field(description="By reason (no_address, no_consent, "
                                                "suppressed, topic_opt_out, not_test...)")
    opened: int = Field(description="Opened by a person (machine opens left out)")
    clicked: int = Field(description="Clicked by a person (scanners left out)")
    bounced: int
    unsubscribed: int = Field(description="Unsubscribed after it was sent to them")


class BroadcastOut(Schema):
    id: int
    name: str
    status: str = Field(description="draft | scheduled | sending | sent | cancelled | failed")
    template: int
    list: int
    sender: int | None
    scheduled_at: datetime | None
    test_mode: bool
    test_list: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued_count: int = Field(description="Messages queued (one per member with an address)")
    last_error: str

    @staticmethod
    def resolve_template(row: Broadcast) -> int:
        return row.template_id

    @staticmethod
    def resolve_list(row: Broadcast) -> int:
        return row.list_id

    @staticmethod
    def resolve_sender(row: Broadcast) -> int | None:
        return row.sender_id

    @staticmethod
    def resolve_test_list(row: Broadcast) -> int | None:
        return row.test_list_id


class BroadcastWithReport(BroadcastOut):
    report: ReportOut

    @staticmethod
    def resolve_report(row: Broadcast) -> broadcasts.Report:
        return broadcasts.report(row)


class BroadcastIn(Schema):
    name: str = Field(max_length=120)
    template: int
    list: int
    sender: int | None = None
    scheduled_at: datetime | None = None
    test_mode: bool = False
    test_list: int | None = None


class BroadcastPatch(Schema):
    name: str | None = Field(None, max_length=120)
    template: int | None = None
    list: int | None = None
    sender: int | None = None
    scheduled_at: datetime | None = None
    test_mode: bool | None = None
    test_list: int | None = None


class StartIn(Schema):
    at: datetime | None = Field(None, description="When to send; empty: now (or at the "
                                                  "send's scheduled_at)")


def _in(data: dict) -> dict:
    if data.get("scheduled_at"):
        data["scheduled_at"] = utc(data["scheduled_at"], "scheduled_at")
    return data


@broadcasts_router.get("", response=answers(list[BroadcastOut], 422),
                       summary="One-off sends, newest first")
@paginate(Pagination)
def list_broadcasts(request):
    return broadcasts.visible_broadcasts(request.user)


@broadcasts_router.post("", response=answers({201: BroadcastWithReport}, 413, 422),
                        summary="Create a one-off send (a draft: start it to send)")
def create_broadcast(request, payload: BroadcastIn):
    return Status(201, broadcasts.create(request.user, _in(payload.dict())))


@broadcasts_router.get("/{broadcast_id}", response=answers(BroadcastWithReport, 404, 422),
                       summary="A one-off send and its report")
def get_broadcast(request, broadcast_id: int):
    return broadcasts.get_broadcast(request.user, broadcast_id)


@broadcasts_router.patch("/{broadcast_id}",
                         response=answers(BroadcastWithReport, 404, 409, 413, 422),
                         summary="Change a send that has not started (it goes back to draft)")
def update_broadcast(request, broadcast_id: int, payload: BroadcastPatch):
    found = broadcasts.get_broadcast(request.user, broadcast_id)
    return broadcasts.update(request.user, found, _in(payload.dict(exclude_unset=True)))


@broadcasts_router.post("/{broadcast_id}/start",
                        response=answers(BroadcastWithReport, 404, 409, 413, 422),
                        summary="Send a draft now, or schedule it")
def start_broadcast(request, broadcast_id: int, payload: StartIn):
    found = broadcasts.get_broadcast(request.user, broadcast_id)
    at = utc(payload.at, "at") if payload.at else None
    return broadcasts.start(request.user, found, at=at)


@broadcasts_router.post("/{broadcast_id}/cancel",
                        response=answers(BroadcastWithReport, 404, 409, 422),
                        summary="Cancel a send that has not started")
def cancel_broadcast(request, broadcast_id: int):
    return broadcasts.cancel(request.user, broadcasts.get_broadcast(request.user, broadcast_id))
