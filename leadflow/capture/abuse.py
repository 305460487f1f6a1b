"""Spam and abuse checks of public form posts, and the per-day count of refused posts.

Cross-site posts cannot carry Django's CSRF cookie, so the public endpoints rely on
these instead: a honeypot field, a minimum fill time (signed token), a per-IP rate limit
(Django's cache: LocMem by default, Redis when LEADFLOW_CACHE_URL is set) and size limits.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from leadflow.capture import tokens
from leadflow.capture.models import Form, FormRejection
from leadflow.core import clock
from leadflow.core.errors import LeadflowError

HONEYPOT = "website"
MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 60
MAX_VALUE_LENGTH = 2000
RATE_WINDOW_SECONDS = 600


class Rejected(LeadflowError):
    """A post refused as abuse: counted under `reason`, never stored as a lead."""

    def __init__(self, message: str, *, reason: str, status: int = 400):
        super().__init__(message)
        self.reason = reason
        self.status = status


def count_rejection(form: Form, reason: str) -> None:
    """Add one to today's counter of `reason` for `form` (an UPDATE ... + 1, creating the
    row the first time; a concurrent creator makes us update instead)."""
    day = clock.now().date()
    rows = FormRejection.objects.filter(form=form, day=day, reason=reason)
    if rows.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            FormRejection.objects.create(form=form, day=day, reason=reason, count=1)
    except IntegrityError:
        rows.update(count=F("count") + 1)


def rejection_counts(form: Form, days: int = 30) -> list[FormRejection]:
    since = clock.now().date() - timedelta(days=days)
    return list(form.rejections.filter(day__gt=since).order_by("-day", "reason"))


def check_rate(form: Form, ip: str | None) -> None:
    """Allow LEADFLOW_FORM_RATE_LIMIT posts per IP and form in each 10-minute window."""
    window = int(clock.now().timestamp()) // RATE_WINDOW_SECONDS
    key = f"lf:form-rate:{form.pk}:{ip or '-'}:{window}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS + 60)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS + 60)
        hits = 1
    if hits > settings.LEADFLOW_FORM_RATE_LIMIT:
        raise Rejected(_("Too many submissions from your address: please try again later."),
                       reason="rate_limit", status=429)


def check_size(values: dict, body_bytes: int) -> None:
    if body_bytes > MAX_BODY_BYTES:
        raise Rejected(_("The submission is too large."), reason="too_large")
    if len(values) > MAX_FIELDS:
        raise Rejected(_("The submission has too many fields."), reason="too_many_fields")
    for value in values.values():
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_FIELDS or any(len(str(v)) > MAX_VALUE_LENGTH for v in items):
            raise Rejected(_("A value is too long."), reason="too_long")


def check_bot(form: Form, values: dict, token: str) -> None:
    if values.get(HONEYPOT):
        raise Rejected(_("Rejected."), reason="honeypot")
    elapsed = tokens.seconds_since_shown(token or "", form.pk)
    if elapsed is None:
        raise Rejected(_("The form has expired: please reload the page and try again."),
                       reason="bad_token")
    if elapsed < settings.LEADFLOW_FORM_MIN_SECONDS:
        raise Rejected(_("That was too fast: please take a moment and submit again."),
                       reason="too_fast")
