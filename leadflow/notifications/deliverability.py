"""The admins are told when a sending domain's spam complaint rate goes above 0.3%
(emails.deliverability): an in-app notification, once per domain per day. A periodic job
(core.periodic); the rates are read at most once an hour per worker process."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from leadflow.accounts.models import Role, User
from leadflow.core import clock
from leadflow.emails.deliverability import domain_rates
from leadflow.notifications.models import Notification

CHECK_EVERY = timedelta(hours=1)
_last_check: datetime | None = None


def alert_complaint_rates(*, worker: str = "") -> int:
    """Notify every active admin of each domain above the threshold (once a day per
    domain and admin, whatever the number of workers); returns the notifications made."""
    global _last_check
    now = clock.now()
    if _last_check is not None and _last_check <= now < _last_check + CHECK_EVERY:
        return 0
    _last_check = now
    over = [rate for rate in domain_rates() if rate.alert]
    if not over:
        return 0
    admins = list(User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True),
                                      is_active=True))
    day = now.date().isoformat()
    keys = {f"complaint_rate:{rate.domain}:{day}:{admin.pk}"[:120]: (rate, admin)
            for rate in over for admin in admins}
    known = set(Notification.objects.filter(dedupe_key__in=list(keys))
                .values_list("dedupe_key", flat=True))
    notes = [Notification(kind=Notification.Kind.COMPLAINT_RATE, user=admin, created_at=now,
                          dedupe_key=key,
                          payload={"domain": rate.domain, "sent": rate.sent,
                                   "complaints": rate.complaints,
                                   "percent": round(rate.complaint_percent, 2)})
             for key, (rate, admin) in keys.items() if key not in known]
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    return len(notes)
