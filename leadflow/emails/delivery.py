"""Handing a batch of rendered messages to the mail server.

Over SMTP: LEADFLOW_SMTP_CONNECTIONS connections at once, a thread each, every
connection reused for all its messages. The threads only talk SMTP; the database is
written by the calling thread, which marks each accepted message sent before its
connection may send the next one (at most one accepted-but-unmarked message per
connection: the duplicate bound of emails.outbox); the answers of several connections
are marked together, in one statement. Any other mail backend (a provider
through django-anymail, files, memory) is given the messages one by one.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from typing import cast

from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection as db
from django.db import transaction

from leadflow.core import clock, failpoints, workqueue
from leadflow.emails import dkim, mime, senders, verp
from leadflow.emails.models import EmailMessage

log = logging.getLogger(__name__)

# How long messages wait when the server cannot be reached (no attempt counted).
UNREACHABLE_PAUSE = timedelta(seconds=5)
_SENT, _UNTRIED = "sent", "untried"
# The longest the answers of other connections are awaited to be marked with one already
# in (emails.delivery._gather).
MAX_GATHER = 0.005


@dataclass
class Outcome:
    sent: list[int] = field(default_factory=list)
    failed: dict[int, tuple[str, bool]] = field(default_factory=dict)  # id: (error, permanent)
    untried: list[int] = field(default_factory=list)
    pause: timedelta = UNREACHABLE_PAUSE
    unreachable: bool = False  # the server could not be reached: send nothing more now


@dataclass(frozen=True)
class Sender:
    name: str
    address: str
    reply_to: str = ""

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1].lower()


def assign_senders(messages: list[EmailMessage]) -> None:
    """Who each message is from: its own sender, its campaign's, its template's, the
    default identity, else LEADFLOW_FROM_EMAIL (emails.senders; two queries a batch)."""
    book = senders.SenderBook.load(m.campaign_id for m in messages)
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    fallback = Sender(name, address)
    for m in messages:
        identity = book.for_message(m)
        m.envelope_sender = (Sender(identity.from_name, identity.from_email, identity.reply_to)
                             if identity else fallback)


def sending_domain(message: EmailMessage) -> str:
    return message.envelope_sender.domain


def as_bytes(message: EmailMessage) -> tuple[str, bytes]:
    """The envelope sender (its own VERP return path) and the bytes of a message."""
    sender: Sender = message.envelope_sender
    headers = dict(message.headers)
    if sender.reply_to:
        headers["Reply-To"] = sender.reply_to
    data = mime.build(message_id=message.message_id, from_=(sender.name, sender.address),
                      to=message.to_email, subject=message.subject, text=message.body_text,
                      html=message.body_html, headers=headers)
    # Signed for the From domain (DMARC alignment); unchanged when it has no key.
    return verp.return_path(message.pk, sender.domain), dkim.sign(data, sender.domain)


def deliver(claim: workqueue.Claim, messages: list[EmailMessage]) -> Outcome:
    backend = mail.mailers.default
    if isinstance(backend, SMTPBackend):
        return _over_smtp(claim, messages)
    return _over_backend(claim, messages, backend)


def kind_of(exc: Exception) -> str:
    """"permanent" (a 5xx answer: sending again gets the same), "unreachable" (no
    server to talk to), or "temporary" (4xx, anything else: try again later)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return "permanent" if codes and all(c >= 500 for c in codes) else "temporary"
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code == 421:
            return "unreachable"
        return "permanent" if exc.smtp_code >= 500 else "temporary"
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError):
        return "unreachable"
    return "temporary"


def _mark_sent(claim: workqueue.Claim, messages: list[EmailMessage]) -> None:
    """One statement: these rows were accepted by the server (still held by the claim
    until their events are stored)."""
    now = clock.now()
    for m in messages:
        m.sent_at = now
    marks = ", ".join(["%s"] * len(messages))
    with transaction.atomic(), db.cursor() as cursor:
        if db.vendor == "postgresql":
            # The mark is seen by every other worker at once, whatever this setting; only
            # a crash of PostgreSQL itself (not of a worker) could lose its last fraction
            # of a second of marks, and those messages would go again under the same
            # Message-ID. A commit without waiting for the disk costs a fifth.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            f"UPDATE {EmailMessage._meta.db_table} SET status = %s, sent_at = %s, error = '' "  # noqa: S608
            f"WHERE claimed_by = %s AND id IN ({marks})",
            [EmailMessage.Status.SENT, now, claim.token, *(m.pk for m in messages)])
        if cursor.rowcount != len(messages):
            log.warning("%s sent messages were taken over by another worker meanwhile",
                        len(messages) - cursor.rowcount)


def _over_backend(claim: workqueue.Claim, messages: list[EmailMessage], backend) -> Outcome:
    from leadflow.emails.services import build

    outcome = Outcome()
    for i, m in enumerate(messages):
        try:
            backend.send_messages([build(m)])
        except Exception as exc:  # a failed send is expected: retried, then given up
            kind = kind_of(exc)
            log.warning("email %s failed (%s): %s", m.pk, kind, exc)
            outcome.failed[m.pk] = (str(exc) or type(exc).__name__, kind == "permanent")
            if kind == "unreachable":
                outcome.untried += [r.pk for r in messages[i + 1:]]
                outcome.unreachable = True
                break
            continue
        failpoints.hit("email.after_smtp")
        _mark_sent(claim, [m])
        outcome.sent.append(m.pk)
        workqueue.keep_alive(claim)
    return outcome


def _over_smtp(claim: workqueue.Claim, messages: list[EmailMessage]) -> Outcome:
    count = min(settings.SMTP_CONNECTIONS, len(messages))
    results: queue.Queue = queue.Queue()
    acks = [threading.Semaphore(0) for _ in range(count)]
    stop, unreachable = threading.Event(), threading.Event()
    threads = [threading.Thread(target=_connection, daemon=True, name=f"smtp-{i}",
                                args=(i, messages[i::count], results, acks[i], stop,
                                      unreachable))
               for i in range(count)]
    for thread in threads:
        thread.start()
    outcome = Outcome()
    running = sending = count  # threads alive; threads sending (not waiting for a mark)
    window = 0.0
    try:
        while running:
            got = _gather(results, sending, window)
            accepted = [m for _, m, r in got if r == _SENT]
            if accepted:
                started = time.monotonic()
                _mark_sent(claim, accepted)
                window = min(time.monotonic() - started, MAX_GATHER)
                outcome.sent += [m.pk for m in accepted]
            for i, m, r in got:
                sending -= _leaves(r)
                if m is None:
                    running -= 1
                elif r == _UNTRIED:
                    outcome.untried.append(m.pk)
                    continue
                elif r != _SENT:
                    outcome.failed[m.pk] = r
                if m is not None:
                    acks[i].release()
                    sending += 1
            if not workqueue.keep_alive(claim):
                stop.set()  # the rows were taken over: send nothing more
    finally:
        stop.set()
        for ack in acks:
            ack.release()
        for thread in threads:
            thread.join(timeout=30)
    outcome.unreachable = unreachable.is_set()
    return outcome


def _leaves(answer: object) -> int:
    """1 when a thread's answer means it stopped sending (it waits for its mark, or it
    ended); an untried message is put back without either."""
    return 0 if answer == _UNTRIED else 1


def _gather(results: queue.Queue, sending: int, window: float) -> list[tuple]:
    """The answers to mark together: the first awaited, then, for up to `window` seconds
    (what the last mark cost), those of the threads still sending. A mark is a commit,
    which costs about as much whether it covers one message or all the connections':
    with the answers taken as they came, each mark covered two messages of four."""
    got = [results.get()]
    sending -= _leaves(got[0][2])
    deadline = time.monotonic() + window
    while True:
        try:
            left = deadline - time.monotonic()
            answer = (results.get(timeout=left) if sending > 0 and left > 0
                      else results.get_nowait())
        except queue.Empty:
            return got
        got.append(answer)
        sending -= _leaves(answer[2])


def _connection(index: int, messages: list[EmailMessage], results: queue.Queue,
                ack: threading.Semaphore, stop: threading.Event,
                unreachable: threading.Event) -> None:
    """One SMTP connection's thread: sends its messages in turn, waiting after each for
    the calling thread to record the answer."""
    backend = cast(SMTPBackend, mail.mailers.default)  # deliver() checked its class
    try:
        for position, m in enumerate(messages):
            if stop.is_set():
                for rest in messages[position:]:
                    results.put((index, rest, _UNTRIED))
                return
            try:
                envelope_from, data = as_bytes(m)
                backend.open()  # reopened after a failure closed it
                assert backend.connection is not None
                backend.connection.sendmail(envelope_from, [m.to_email], data)
            except Exception as exc:  # a failed send is expected: retried, then given up
                kind = kind_of(exc)
                log.warning("email %s failed (%s): %s", m.pk, kind, exc)
                results.put((index, m, (str(exc) or type(exc).__name__, kind == "permanent")))
                _close(backend)
                ack.acquire()
                if kind == "unreachable":
                    unreachable.set()
                    for rest in messages[position + 1:]:
                        results.put((index, rest, _UNTRIED))
                    return
                continue
            failpoints.hit("email.after_smtp")
            results.put((index, m, _SENT))
            ack.acquire()
    finally:
        _close(backend)
        results.put((index, None, "done"))


def _close(backend) -> None:
    try:
        backend.close()
    except Exception:
        log.debug("closing the mail connection failed", exc_info=True)
