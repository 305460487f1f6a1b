from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema
from ninja.pagination import paginate

from leadflow.audit import services
from leadflow.core.params import Pagination
from leadflow.core.responses import answers

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    at: datetime
    kind: str
    action: str
    actor: str
    object_type: str
    object_id: str
    object: str
    changes: dict[str, Any]
    ip: str | None

    @staticmethod
    def resolve_actor(entry) -> str:
        return entry.actor_label

    @staticmethod
    def resolve_object(entry) -> str:
        return entry.object_repr


@router.get("", response=answers(list[AuditEntryOut], 422),
            summary="The audit log, newest first: configuration changes and security events "
                    "(administrators)")
@paginate(Pagination)
def list_entries(request, kind: str = ""):
    return services.entries_for(request.user, kind=kind)
