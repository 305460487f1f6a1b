"""Erasure hooks for the stores that know a person only by email address or name, not by
lead id: the Django admin log, email rows, and the files of the file email backend.
Each takes the list of `privacy.Person` being erased (see privacy.STORES)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q

if TYPE_CHECKING:
    from leadflow.leads.privacy import Person

ERASED = "erased"
# A bounded OR per query: the admin log is searched by text, without an index.
NEEDLES_PER_QUERY = 100
# What Django's file email backend writes after each message.
MESSAGE_END = b"\n" + b"-" * 79 + b"\n"
ADDRESS = re.compile(rb"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def forget_in_admin_log(people: list[Person]) -> None:
    """The admin log names an object by its text (a lead's name or email) and may quote
    values in its change message. Entries about the lead, or naming the person, keep who
    did what and when, without the text."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from leadflow.leads.models import Lead

    lead_type = ContentType.objects.get_for_model(Lead)
    LogEntry.objects.filter(content_type=lead_type,
                            object_id__in=[str(p.lead_id) for p in people]).update(
        object_repr=ERASED, change_message="")
    names = [p.name for p in people if p.name]
    emails = [p.email for p in people if p.email]
    for part in _chunks([("n", n) for n in names] + [("e", e) for e in emails]):
        match = Q()
        for kind, value in part:
            match |= Q(object_repr__iexact=value) if kind == "n" else (
                Q(object_repr__icontains=value) | Q(change_message__icontains=value))
        LogEntry.objects.filter(match).update(object_repr=ERASED, change_message="")


def forget_in_email_rows(people: list[Person]) -> None:
    """Rows of the lead's own messages are deleted with the lead; any other message row
    still addressed to the person (kept for delivery bookkeeping) loses its personal
    fields, named here."""
    from leadflow.emails.models import EmailMessage

    for part in _chunks([p.email for p in people if p.email]):
        match = Q()
        for email in part:
            match |= Q(to_email__iexact=email)
        EmailMessage.objects.filter(match).update(to_email="", subject="", error="",
                                                  body_text="", body_html="", headers={})


def forget_in_enrollment_errors(people: list[Person]) -> None:
    """A campaign step's error may quote an address (e.g. a refused recipient): an
    enrollment of another lead that names the person keeps its state, not the text."""
    from leadflow.campaigns.models import Enrollment

    for part in _chunks(sorted(set().union(*(p.keys for p in people)))):
        match = Q()
        for key in part:
            match |= Q(last_error__icontains=key)
        Enrollment.objects.filter(match).update(last_error="")


def forget_in_sent_email_files(people: list[Person]) -> None:
    """The file email backend (`make run`, trials) keeps every message sent: the messages
    to or about the person are cut out of each file; a file left empty is deleted."""
    emails = {p.email.encode() for p in people if p.email}
    if not emails:
        return
    for folder in email_file_folders():
        for path in sorted(p for p in folder.glob("*") if p.is_file()):
            _rewrite_without(path, emails)


def email_file_folders() -> list[Path]:
    return [Path(mailer["OPTIONS"]["file_path"])
            for mailer in getattr(settings, "MAILERS", {}).values()
            if mailer.get("OPTIONS", {}).get("file_path")]


def _rewrite_without(path: Path, emails: set[bytes]) -> None:
    data = path.read_bytes()
    messages = data.split(MESSAGE_END)
    kept = [m for m in messages if not emails & {a.lower() for a in ADDRESS.findall(m)}]
    if len(kept) == len(messages):
        return
    if not any(m.strip() for m in kept):
        path.unlink()
        return
    replace_file(path, MESSAGE_END.join(kept))


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` in place of `path` at once: a reader sees the old file or the new."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".erasing-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _chunks[T](items: list[T]) -> Iterable[list[T]]:
    for start in range(0, len(items), NEEDLES_PER_QUERY):
        yield items[start:start + NEEDLES_PER_QUERY]
