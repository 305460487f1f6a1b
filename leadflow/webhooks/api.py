# No `from __future__ import annotations`: ninja reads the annotations at import time.
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from leadflow.core.errors import NotFound
from leadflow.core.params import Pagination
from leadflow.core.responses import answers
from leadflow.webhooks import kinds, services
from leadflow.webhooks.models import Delivery

router = Router(tags=["webhooks"])


class SubscriptionIn(Schema):
    name: str = Field(max_length=120)
    url: str = Field(max_length=2000, description="https:// (http:// only where allowed)")
    events: list[str] = Field(description="Event kinds: lead.created, lead.updated, "
                                          "lead.stage_changed, lead.assigned, lead.won, "
                                          "lead.lost, lead.unsubscribed, "
                                          "lead.consent_withdrawn, lead.erased, "
                                          "form.submitted")
    conditions: list[dict[str, Any]] = Field(
        default_factory=list, description="Conditions on the event's properties "
                                          "({field, op, value}, as in score rules); all hold")
    active: bool = True
    allow_private: bool = Field(False, description="Deliver to private and loopback "
                                                   "addresses too (refused by default)")


class SubscriptionPatch(Schema):
    name: str | None = None
    url: str | None = None
    events: list[str] | None = None
    conditions: list[dict[str, Any]] | None = None
    active: bool | None = None
    allow_private: bool | None = None


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    conditions: list[dict[str, Any]]
    active: bool
    allow_private: bool
    failures: int
    disabled_reason: str
    created_at: datetime


class SecretOut(Schema):
    secret: str = Field(description="whsec_ + base64: the key of the signatures")
    previous_secret: str = Field(description="Still signing until previous_until")
    previous_until: datetime | None


class DeliveryOut(Schema):
    id: int
    message_id: str
    kind: str
    status: str
    attempts: int
    lead_id: int | None
    payload: dict[str, Any]
    request_headers: dict[str, Any]
    response_status: int | None
    response_body: str
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    due_at: datetime | None


class KindOut(Schema):
    key: str
    label: str


@router.get("/kinds", response=answers(list[KindOut]), summary="The event kinds to subscribe to")
def list_kinds(request):
    return [{"key": k.key, "label": str(k.label)} for k in kinds.REGISTRY.values()]


@router.get("", response=answers(list[SubscriptionOut], 422),
            summary="Webhook subscriptions (administrators)")
@paginate(Pagination)
def list_subscriptions(request):
    return services.list_subscriptions(actor=request.user)


@router.post("", response=answers({201: SubscriptionOut}, 413, 422),
             summary="Subscribe an endpoint (its secret: GET .../secret)")
def create_subscription(request, payload: SubscriptionIn):
    return Status(201, services.create_subscription(payload.dict(), actor=request.user))


@router.get("/{sub_id}", response=answers(SubscriptionOut, 404, 422), summary="A subscription")
def get_subscription(request, sub_id: int):
    return services.get_subscription(sub_id, actor=request.user)


@router.patch("/{sub_id}", response=answers(SubscriptionOut, 404, 413, 422),
              summary="Change a subscription (active: true turns a disabled one back on)")
def update_subscription(request, sub_id: int, payload: SubscriptionPatch):
    sub = services.get_subscription(sub_id, actor=request.user)
    return services.update_subscription(sub, payload.dict(exclude_unset=True),
                                        actor=request.user)


@router.delete("/{sub_id}", response=answers({204: None}, 404, 422),
               summary="Delete a subscription and its delivery log")
def delete_subscription(request, sub_id: int):
    services.delete_subscription(services.get_subscription(sub_id, actor=request.user),
                                 actor=request.user)
    return Status(204, None)


@router.get("/{sub_id}/secret", response=answers(SecretOut, 404, 422),
            summary="The signing secret (administrators)")
def get_secret(request, sub_id: int):
    return services.get_subscription(sub_id, actor=request.user)


@router.post("/{sub_id}/rotate", response=answers(SecretOut, 404, 422),
             summary="A new secret; the previous one also signs for 24 hours")
def rotate(request, sub_id: int):
    sub = services.get_subscription(sub_id, actor=request.user)
    return services.rotate_secret(sub, actor=request.user)


@router.post("/{sub_id}/test", response=answers({202: DeliveryOut}, 404, 422),
             summary="Queue a webhook.test message")
def send_test(request, sub_id: int):
    sub = services.get_subscription(sub_id, actor=request.user)
    return Status(202, services.send_test(sub, actor=request.user))


@router.get("/{sub_id}/deliveries", response=answers(list[DeliveryOut], 404, 422),
            summary="The delivery log, newest first")
@paginate(Pagination)
def list_deliveries(request, sub_id: int):
    return services.get_subscription(sub_id, actor=request.user).deliveries.all()


@router.post("/{sub_id}/deliveries/{delivery_id}/redeliver",
             response=answers({202: DeliveryOut}, 404, 422),
             summary="Send a delivery again (same webhook-id)")
def redeliver(request, sub_id: int, delivery_id: int):
    sub = services.get_subscription(sub_id, actor=request.user)
    delivery = Delivery.objects.filter(pk=delivery_id, subscription=sub).first()
    if delivery is None:
        raise NotFound(_("No such delivery."))
    return Status(202, services.redeliver(delivery, actor=request.user))
