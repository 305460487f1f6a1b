"""In-app notifications and their emails. The hand-off (a `handed_off` event, recorded by
lifecycle) runs, in this order: assignment if the lead has no owner (routing), a
notification for the owner (or every member of the lead's team while nobody owns it), and
an email to each of them through the outbox (never SMTP in the request).

Set-based: a constant number of queries per batch, whatever the number of hand-offs.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail.message import make_msgid
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from leadflow.accounts.models import Role, User
from leadflow.core import clock
from leadflow.core.errors import NotFound
from leadflow.core.pipeline import Batch
from leadflow.emails.models import EmailMessage
from leadflow.leads.labels import reason_label
from leadflow.leads.models import Lead
from leadflow.notifications.models import Notification
from leadflow.tracking.models import EventType

log = logging.getLogger(__name__)


def on_events(batch: Batch) -> None:
    """Pipeline step: tell sales about the leads handed off in this batch (not those whose
    move was saved without hand-offs: `"notify": false`)."""
    from leadflow.routing.services import route_leads

    handed = [e for e in batch.events if e.type == EventType.HANDED_OFF
              and e.lead_id is not None and (e.properties or {}).get("notify") is not False]
    if not handed:
        return
    leads = {lead.pk: lead for lead in Lead.objects.filter(
        pk__in=sorted({e.lead_id for e in handed}))}
    route_leads([lead for lead in leads.values() if lead.owner_id is None])
    teams = {lead.team_id for lead in leads.values() if lead.owner_id is None and lead.team_id}
    members: dict[int | None, list[User]] = {}
    if teams:
        for user in User.objects.filter(team_id__in=sorted(teams), is_active=True):
            members.setdefault(user.team_id, []).append(user)
    if any(lead.owner_id is None and not lead.team_id for lead in leads.values()):
        # Nobody owns it and no team is named: the sales managers hear of it.
        members[None] = list(User.objects.filter(role=Role.SALES_MANAGER, is_active=True))
    owners = {u.pk: u for u in User.objects.filter(
        pk__in=sorted({lead.owner_id for lead in leads.values() if lead.owner_id}))}
    notes: list[Notification] = []
    now = clock.now()
    for event in handed:
        lead = leads.get(event.lead_id)  # type: ignore[arg-type]
        if lead is None:
            continue
        told = ([owners[lead.owner_id]] if lead.owner_id in owners
                else members.get(lead.team_id, []))
        for user in told:
            if user.pk == event.actor_id:  # the person who moved it knows
                continue
            notes.append(Notification(
                kind=Notification.Kind.HANDOFF, user=user, lead=lead, created_at=now,
                dedupe_key=f"handoff:{event.pk}:{user.pk}",
                payload={"handoff_id": (event.properties or {}).get("handoff_id"),
                         "stage": (event.properties or {}).get("to"),
                         "reasons": (event.properties or {}).get("reasons") or []}))
    if not notes:
        return
    created = Notification.objects.bulk_create(notes, ignore_conflicts=True)
    _queue_emails(created, leads)


def _queue_emails(notes: list[Notification], leads: dict[int, Lead]) -> None:
    """One email per notification, queued in the outbox (sent by a worker)."""
    now = clock.now()
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
    messages = []
    for note in notes:
        if not note.user.email or note.lead_id is None:
            continue
        lead = leads[note.lead_id]
        link = settings.BASE_URL + reverse("leads:detail", args=[lead.pk])
        if note.kind == Notification.Kind.TASK:
            subject = _("Task due: %(title)s (%(lead)s)") % {
                "title": note.payload.get("title", ""), "lead": lead}
            body = _("Your task %(title)s on %(lead)s is due at %(due)s.\n\n"
                     "Open the lead: %(link)s\n") % {
                "title": note.payload.get("title", ""), "lead": lead,
                "due": note.payload.get("due_at", ""), "link": link}
        elif note.kind == Notification.Kind.CAMPAIGN:
            subject = _("Follow up %(lead)s (campaign %(campaign)s)") % {
                "lead": lead, "campaign": note.payload.get("campaign", "")}
            body = _("The campaign %(campaign)s asks you to follow up %(lead)s.\n\n"
                     "%(message)s\n\nOpen the lead: %(link)s\n") % {
                "campaign": note.payload.get("campaign", ""), "lead": lead,
                "message": note.payload.get("message", ""), "link": link}
        else:
            reasons = "\n".join(f"- {_line(r)}" for r in note.payload.get("reasons", []))
            subject = _("Lead handed off to you: %(lead)s") % {"lead": lead}
            body = _("%(lead)s was handed off to sales.\n\nWhy:\n%(reasons)s\n\n"
                     "Open the lead: %(link)s\n") % {"lead": lead, "reasons": reasons,
                                                    "link": link}
        messages.append(EmailMessage(
            lead=lead, dedupe_key=f"notification:{note.dedupe_key}"[:120],
            to_email=note.user.email, status=EmailMessage.Status.QUEUED, due_at=now,
            subject=subject[:200], message_id=make_msgid(domain=domain), body_text=body))
    if messages:
        EmailMessage.objects.bulk_create(messages, ignore_conflicts=True)
        transaction.on_commit(_wake_outbox)


def notify(notes: list[Notification]) -> int:
    """Store notifications built by a higher app (each with its user, lead, kind, payload
    and dedupe key) and queue their emails: those whose key is stored already are skipped,
    so a replayed cause tells nobody twice. A constant number of queries (each note's
    `user` and `lead` are expected loaded). Returns how many were created."""
    if not notes:
        return 0
    existing = set(Notification.objects.filter(
        dedupe_key__among=[n.dedupe_key for n in notes]).values_list("dedupe_key", flat=True))
    notes = [n for n in notes if n.dedupe_key not in existing]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    _queue_emails(notes, {n.lead.pk: n.lead for n in notes if n.lead is not None})
    return len(notes)


def notify_owners(keys: dict[int, str], payload: dict) -> int:
    """Tell each lead's owner (else its team's members) of a campaign's request: one
    notification per lead and person, once per key (lead id -> dedupe key), and its email.
    A constant number of queries. Returns how many were created."""
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__among=sorted(keys))}
    owners = {u.pk: u for u in User.objects.filter(
        pk__in=sorted({lead.owner_id for lead in leads.values() if lead.owner_id}),
        is_active=True)}
    teams: dict[int | None, list[User]] = defaultdict(list)
    for user in User.objects.filter(team_id__in=sorted(
            {lead.team_id for lead in leads.values() if lead.owner_id is None
             and lead.team_id}), is_active=True):
        teams[user.team_id].append(user)
    now = clock.now()
    notes = [Notification(kind=Notification.Kind.CAMPAIGN, user=user, lead=lead,
                          created_at=now, payload=payload,
                          dedupe_key=f"{keys[lead.pk]}:{user.pk}"[:120])
             for lead in leads.values()
             for user in ([owners[lead.owner_id]] if lead.owner_id in owners
                          else teams.get(lead.team_id, []))]
    if not notes:
        return 0
    existing = set(Notification.objects.filter(
        dedupe_key__among=[n.dedupe_key for n in notes]).values_list("dedupe_key", flat=True))
    notes = [n for n in notes if n.dedupe_key not in existing]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    _queue_emails(notes, leads)
    return len(notes)


def _line(reason: object) -> str:
    if not isinstance(reason, dict):
        return str(reason)
    text = reason_label(str(reason.get("reason", "")))
    points = reason.get("points")
    return f"{text} ({points:+d})" if isinstance(points, int) else text


def reason_lines(note: Notification) -> list[str]:
    """The hand-off's reasons as the reader reads them."""
    return [_line(r) for r in note.payload.get("reasons", [])]


def _wake_outbox() -> None:
    from leadflow.emails.tasks import send_outbox_task

    try:
        send_outbox_task.enqueue()
    except Exception:  # the periodic tick sends it anyway
        log.exception("could not enqueue send_outbox_task")


def for_user(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("lead")


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read (another person's is not found)."""
    note = Notification.objects.filter(user=user, pk=notification_id).first()
    if note is None:
        raise NotFound(_("No such notification."))
    if note.read_at is None:
        note.read_at = clock.now()
        note.save(update_fields=["read_at"])
    return note


def mark_all_read(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=clock.now())


