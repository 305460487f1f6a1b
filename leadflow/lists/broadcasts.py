"""One-off sends (newsletters): a template to a static list, now or at a set time.

A person creates a draft, then starts it (now, or scheduled); a worker's periodic job
(`run_due`, claimed through core.workqueue) takes it when due and queues the outbox rows
in ONE `INSERT ... SELECT` over the list's members: one marketing message per member with
an address, keyed `broadcast:<id>:<lead id>`, `ON CONFLICT DO NOTHING`, so a second run
(after a crash, or two workers) queues nothing twice. Subject and bodies are left empty:
the outbox renders each message when it claims it, and checks consent, suppression, topic
and caps then. Members without an address get no row; they are counted (`no_address`).
In test mode only the test list's members are queued. A send is cancelled only before it
starts; it is `sent` once none of its messages waits any more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, VIEW, Actor, may
from leadflow.core import clock, workqueue
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from leadflow.core.params import valid_id
from leadflow.emails.models import EmailMessage, EmailTemplate, SenderIdentity
from leadflow.lists.models import Broadcast, LeadList, ListMember
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.accounts.models import User

log = logging.getLogger(__name__)

# Queueing 100,000 rows takes seconds; the lease covers it with room to spare.
LEASE = timedelta(minutes=10)
WAITING = (EmailMessage.Status.QUEUED, EmailMessage.Status.SENDING)
FIELDS = ("name", "template", "list", "sender", "scheduled_at", "test_mode", "test_list")


def may_view(user: User) -> bool:
    return may(user, VIEW, "campaigns")


def may_change(user: User) -> bool:
    return may(user, CHANGE, "campaigns")


def _check(who: User | Actor | None) -> Actor:
    actor = Actor.of(who)
    if actor.is_public or (actor.user is not None and not may_change(actor.user)):
        raise Forbidden(_("Only administrators and marketing may send one-off emails."))
    return actor


def visible_broadcasts(user: User) -> QuerySet[Broadcast]:
    """Every one-off send, newest first, for those who may see campaigns."""
    if not may_view(user):
        raise Forbidden(_("You may not see one-off sends."))
    return Broadcast.objects.select_related("template", "list", "test_list", "sender")


def get_broadcast(user: User, broadcast_id: int) -> Broadcast:
    found = (visible_broadcasts(user).filter(pk=broadcast_id).first()
             if valid_id(broadcast_id) else None)
    if found is None:
        raise NotFound(_("No one-off send #%(id)s.") % {"id": broadcast_id})
    return found


def _row(model: Any, pk: Any, field: str, missing: str) -> Any:
    if pk in (None, ""):
        return None
    if isinstance(pk, model):
        return pk
    try:
        number = int(pk)
    except (TypeError, ValueError):
        number = 0
    row = model._default_manager.filter(pk=number).first() if valid_id(number) else None
    if row is None:
        raise InvalidInput(missing % {"id": pk}, field=field)
    return row


def _values(data: dict[str, Any], current: Broadcast | None) -> dict[str, Any]:
    """The draft's fields from `data` (ids or rows), checked, merged over `current`."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidInput(_("Unknown field: %(field)s.") % {"field": unknown[0]},
                           field=unknown[0])
    values: dict[str, Any] = {f: getattr(current, f) for f in FIELDS} if current else {
        "name": "", "template": None, "list": None, "sender": None, "scheduled_at": None,
        "test_mode": False, "test_list": None}
    if "name" in data:
        values["name"] = " ".join(str(data["name"] or "").split())[:120]
    if "template" in data:
        values["template"] = _row(EmailTemplate, data["template"], "template",
                                  _("No email template #%(id)s."))
    if "list" in data:
        values["list"] = _row(LeadList, data["list"], "list", _("No list #%(id)s."))
    if "sender" in data:
        values["sender"] = _row(SenderIdentity, data["sender"], "sender",
                                _("No sender identity #%(id)s."))
    if "test_list" in data:
        values["test_list"] = _row(LeadList, data["test_list"], "test_list",
                                   _("No list #%(id)s."))
    if "test_mode" in data:
        values["test_mode"] = bool(data["test_mode"])
    if "scheduled_at" in data:
        values["scheduled_at"] = data["scheduled_at"] or None
    if "\x00" in values["name"]:
        raise InvalidInput(_("Text may not contain NUL characters."), field="name")
    for name, message in (("name", _("Give the send a name.")),
                          ("template", _("Choose the email template to send.")),
                          ("list", _("Choose the list to send to."))):
        if not values[name]:
            raise InvalidInput(message, field=name)
    if not values["template"].marketing:
        raise InvalidInput(_("A one-off send is marketing: choose a marketing template."),
                           field="template")
    if values["test_mode"] and values["test_list"] is None:
        raise InvalidInput(_("Test mode sends to a test list only: choose one."),
                           field="test_list")
    return values


def create(who: User | Actor | None, data: dict[str, Any]) -> Broadcast:
    """A draft: nothing goes out until it is started."""
    actor = _check(who)
    values = _values(data, None)
    return Broadcast.objects.create(**values, created_by=actor.user, created_at=clock.now())


def update(who: User | Actor | None, broadcast: Broadcast, data: dict[str, Any]) -> Broadcast:
    """Change a draft (or a scheduled send, which goes back to draft: start it again)."""
    _check(who)
    values = _values(data, broadcast)
    changed = Broadcast.objects.filter(
        pk=broadcast.pk, status__in=(Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED)
    ).update(**values, status=Broadcast.Status.DRAFT, due_at=None)
    if not changed:
        raise Conflict(_("This send has started: it can no longer be changed."))
    broadcast.refresh_from_db()
    return broadcast


def start(who: User | Actor | None, broadcast: Broadcast, *,
          at: datetime | None = None) -> Broadcast:
    """Send a draft now (`at` None) or at `at`: it becomes `scheduled`, and a worker
    queues its messages when due. Only a draft starts."""
    _check(who)
    now = clock.now()
    when = at or broadcast.scheduled_at or now
    if at is not None and at < now - timedelta(minutes=1):
        raise InvalidInput(_("The time to send is in the past."), field="scheduled_at")
    changed = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.DRAFT).update(
        status=Broadcast.Status.SCHEDULED, scheduled_at=max(when, now), due_at=max(when, now),
        attempts=0, last_error="")
    if not changed:
        raise Conflict(_("Only a draft can be started."))
    transaction.on_commit(_wake_worker)
    broadcast.refresh_from_db()
    return broadcast


def cancel(who: User | Actor | None, broadcast: Broadcast) -> Broadcast:
    """Cancel a draft or a scheduled send that has not started (Conflict once a worker
    has claimed it: its messages are queued or being queued)."""
    _check(who)
    changed = Broadcast.objects.filter(
        pk=broadcast.pk, status__in=(Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED),
        claimed_by="").update(status=Broadcast.Status.CANCELLED, due_at=None,
                              finished_at=clock.now())
    if not changed:
        raise Conflict(_("This send has started: it can no longer be cancelled."))
    broadcast.refresh_from_db()
    return broadcast


def _wake_worker() -> None:
    from leadflow.lists.tasks import run_due_broadcasts_task

    try:
        run_due_broadcasts_task.enqueue()
    except Exception:  # the periodic tick starts it anyway
        log.exception("could not enqueue run_due_broadcasts_task")


# --- the worker ----------------------------------------------------------------------

def run_due(*, worker: str = "") -> int:
    """Periodic job: queue the messages of each due send (claimed, one at a time), and
    mark `sent` those none of whose messages waits any more. Returns the sends queued."""
    finished = _settle()
    started = 0
    while claim := workqueue.claim(
            Broadcast.objects.filter(status__in=(Broadcast.Status.SCHEDULED,
                                                 Broadcast.Status.SENDING)),
            limit=1, lease=LEASE, worker=worker, exhausted=_gave_up,
            status=Broadcast.Status.SENDING):
        for pk in workqueue.each(claim):
            try:
                queue_messages(claim, pk)
                started += 1
            except Exception as exc:
                log.exception("one-off send %s could not be queued", pk)
                workqueue.retry(claim, pk, f"{type(exc).__name__}: {exc}",
                                final={"status": Broadcast.Status.FAILED})
    return started + finished


def _gave_up(claim: workqueue.Claim) -> None:
    workqueue.done(claim, claim.ids, status=Broadcast.Status.FAILED,
                   last_error="the worker stopped during the last attempt")


@transaction.atomic
def queue_messages(claim: workqueue.Claim, pk: int) -> int:
    """Queue one outbox row per member of the send's audience (its test list in test
    mode) that has an address; returns how many rows this run inserted (0 when a run
    before did it). The counts and the release are written in the same transaction."""
    broadcast = Broadcast.objects.select_related("template").get(pk=pk)
    audience = broadcast.test_list_id if broadcast.test_mode else broadcast.list_id
    now = clock.now()
    inserted = _insert_select(broadcast, audience, now)
    queued = EmailMessage.objects.filter(broadcast=broadcast).count()
    no_address = ListMember.objects.filter(list_id=audience).filter(
        Q(lead__email__isnull=True) | Q(lead__email="") | Q(lead__erased_at__isnull=False)
    ).count()
    workqueue.done(claim, pk, status=Broadcast.Status.SENDING, started_at=now,
                   queued_count=queued, no_address_count=no_address, last_error="")
    if inserted:
        transaction.on_commit(_kick_outbox)
    return inserted


def _insert_select(broadcast: Broadcast, list_id: int | None, now: datetime) -> int:
    """The outbox rows, in one INSERT ... SELECT. Columns not named here take their
    model default, so that a column added to EmailMessage later needs no change here."""
    if list_id is None:
        return 0
    template = broadcast.template
    given: dict[str, tuple[str, list[Any]]] = {
        "lead": ("l.id", []),
        "to_email": ("l.email", []),
        "dedupe_key": ("CAST(%s AS TEXT) || CAST(l.id AS TEXT)", [f"broadcast:{broadcast.pk}:"]),
        "template": ("%s", [template.pk]),
        "broadcast": ("%s", [broadcast.pk]),
        "topic": ("%s", [template.topic_id]),
        "sender": ("%s", [broadcast.sender_id or template.sender_id]),
        "status": ("%s", [EmailMessage.Status.QUEUED]),
        "lane": ("%s", [EmailMessage.Lane.MARKETING]),
        "due_at": ("%s", [now]),
    }
    meta = EmailMessage._meta
    columns, selects, params = [], [], []
    for f in meta.concrete_fields:
        if f.primary_key:
            continue
        if f.name in given:
            expression, values = given[f.name]
            values = [f.get_db_prep_save(v, connection) if expression == "%s" else v
                      for v in values]
        else:
            expression, values = "%s", [f.get_db_prep_save(f.get_default(), connection)]
        columns.append(connection.ops.quote_name(f.column or f.attname))
        selects.append(expression)
        params.extend(values)
    table = connection.ops.quote_name(meta.db_table)
    members = connection.ops.quote_name(ListMember._meta.db_table)
    leads = connection.ops.quote_name(ListMember._meta.get_field("lead")
                                      .related_model._meta.db_table)
    # Table and column names come from the models, never from input.
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
           f"SELECT {', '.join(selects)} FROM {members} m JOIN {leads} l ON l.id = m.lead_id "
           "WHERE m.list_id = %s AND l.email IS NOT NULL AND l.email <> '' "
           "AND l.erased_at IS NULL ORDER BY l.id ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list_id])
        return max(cursor.rowcount, 0)


def _kick_outbox() -> None:
    from leadflow.emails.tasks import send_outbox_task

    try:
        send_outbox_task.enqueue()
    except Exception:  # the periodic tick sends them anyway
        log.exception("could not enqueue send_outbox_task")


def _settle() -> int:
    """Sends whose messages are all sent, skipped or failed for good become `sent`."""
    return Broadcast.objects.filter(status=Broadcast.Status.SENDING, due_at__isnull=True,
                                    claimed_by="").exclude(
        Exists(EmailMessage.objects.filter(broadcast=OuterRef("pk"), status__in=WAITING))
    ).update(status=Broadcast.Status.SENT, finished_at=clock.now())


# --- the report ----------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    queued: int  # waiting for the outbox (queued or being sent)
    sent: int
    failed: int
    skipped: dict[str, int]  # by EmailMessage.skip_reason, `no_address` included
    opened: int  # by a person (opened_at is set for human opens only)
    clicked: int
    bounced: int
    unsubscribed: int  # after the message was sent to them

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skipped_labelled(self) -> list[tuple[str, str, int]]:
        labels = dict(EmailMessage.Skip.choices)
        return [(reason, str(labels.get(reason, reason or _("other"))), n)
                for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])]


def report(broadcast: Broadcast) -> Report:
    """The send's counts, in two grouped queries over its messages."""
    messages = EmailMessage.objects.filter(broadcast=broadcast)
    sent = Q(sent_at__isnull=False)
    totals = messages.aggregate(
        queued=Count("pk", filter=Q(status__in=WAITING)),
        sent=Count("pk", filter=Q(status=EmailMessage.Status.SENT)),
        failed=Count("pk", filter=Q(status=EmailMessage.Status.FAILED)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        bounced=Count("pk", filter=sent & Q(Exists(Event.objects.filter(
            lead_id=OuterRef("lead_id"), type=EventType.EMAIL_BOUNCED).annotate(
            message=KT("properties__message_id")).filter(
            message=Cast(OuterRef("pk"), CharField()))))),
        unsubscribed=Count("pk", filter=sent & Q(Exists(Event.objects.filter(
            lead_id=OuterRef("lead_id"), type=EventType.UNSUBSCRIBED,
            occurred_at__gte=OuterRef("sent_at"))))))
    skipped = dict(messages.filter(status=EmailMessage.Status.SKIPPED)
                   .values_list("skip_reason").annotate(n=Count("pk")).order_by())
    if broadcast.no_address_count:
        key = EmailMessage.Skip.NO_ADDRESS.value
        skipped[key] = skipped.get(key, 0) + broadcast.no_address_count
    return Report(skipped=skipped, **totals)
