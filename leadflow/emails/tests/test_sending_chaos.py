"""Chaos while sending a 20,000-message campaign: two worker processes send it to an
aiosmtpd server in its own process; one worker is killed (SIGKILL) while every one of its
SMTP connections holds a message the server accepted but the worker has not marked sent
(the `email.after_smtp` failpoint), and later the server refuses connections for a few
seconds. Every message arrives; the only duplicates are those in-flight messages, each
sent again under the same Message-ID (counted and printed).

PostgreSQL only (real worker processes sharing the test database); .ci/run runs it in
its PostgreSQL pass.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from conftest import _free_port
from leadflow.campaigns.models import Campaign
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event, EventType
from tests.workers import wait_until, worker_env, worker_processes

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 20_000
CONNECTIONS = 4  # LEADFLOW_SMTP_CONNECTIONS of each worker
# The killed worker stalls after this many accepted messages: in the middle of a batch
# (not a multiple of LEADFLOW_EMAIL_BATCH), so that all its connections are busy.
STALL_AFTER = 3110
LEASE_SECONDS = 15  # the killed worker's rows come back this long after its last renewal
REFUSED_SECONDS = 3.0
FINISH_WITHIN = 600
Status = EmailMessage.Status


@dataclass
class Receiver:
    """The SMTP server process and the file it appends `Message-ID recipient` lines to."""

    process: subprocess.Popen
    port: int
    received_file: Path
    log: Path

    def received(self) -> list[tuple[str, str]]:
        lines = self.received_file.read_text().splitlines()
        return [(mid, rcpt) for mid, rcpt in (line.split(" ", 1) for line in lines)]

    def count(self) -> int:
        with self.received_file.open("rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))

    def _signal(self, sig: int, state: str) -> None:
        said = self.log.read_text().count(state)
        self.process.send_signal(sig)
        wait_until(lambda: self.log.read_text().count(state) > said, 10, f"SMTP {state}")

    def refuse(self) -> None:
        self._signal(signal.SIGUSR1, "refusing")

    def listen(self) -> None:
        self._signal(signal.SIGUSR2, "listening")


@pytest.fixture
def receiver(tmp_path) -> Iterator[Receiver]:
    port = _free_port()
    received, log = tmp_path / "received.txt", tmp_path / "smtp.log"
    received.touch()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "leadflow.emails.tests.chaos_smtp", str(port), str(received)],
            cwd=Path(__file__).resolve().parents[3], stdout=out, stderr=subprocess.STDOUT)
    server = Receiver(process, port, received, log)
    try:
        wait_until(lambda: "listening" in log.read_text() or process.poll() is not None, 30,
                   "the SMTP server to listen")
        assert process.poll() is None, log.read_text()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def start_worker(receiver, tmp_path) -> Iterator:
    if connection.vendor != "postgresql":
        pytest.skip("worker processes sharing the test database need PostgreSQL")
    env = worker_env(receiver.port, LEADFLOW_DATA_DIR=str(tmp_path),
                     LEADFLOW_TASK_BACKEND="db", LEADFLOW_SMTP_CONNECTIONS=str(CONNECTIONS),
                     LEADFLOW_EMAIL_LEASE_SECONDS=str(LEASE_SECONDS),
                     LEADFLOW_MARKETING_BASIS="legitimate_interest")
    with worker_processes(tmp_path) as start_process:
        yield lambda name, failpoint="": start_process(
            name, {**env, "LEADFLOW_FAILPOINT": failpoint}).process


def queue_campaign() -> None:
    """A campaign's 20,000 outbox rows, queued set-based; the workers render them (and
    give each its Message-ID) when they claim them."""
    now = timezone.now()
    leads = Lead.objects.bulk_create(
        (Lead(email=f"c{i:05d}@chaos.example", first_name=f"C{i}", created_at=now,
              updated_at=now) for i in range(MESSAGES)), batch_size=5000)
    campaign = Campaign.objects.create(name="Chaos", entry_event_type="newsletter_signup")
    template = EmailTemplate.objects.create(name="Chaos", subject="Hello {{ lead.first_name }}",
                                            body_text="Exactly once, even today.")
    EmailMessage.objects.bulk_create(
        (EmailMessage(lead=lead, template=template, campaign=campaign, to_email=lead.email,
                      dedupe_key=f"chaos:{campaign.pk}:{lead.pk}", subject="",
                      status=Status.QUEUED, lane=EmailMessage.Lane.MARKETING, due_at=now)
         for lead in leads), batch_size=5000)


def held_by_killed_worker(received: set[str]) -> set[str]:
    """Messages the server accepted whose rows the killed worker holds, not marked sent."""
    return received & set(EmailMessage.objects.filter(
        claimed_by__startswith="killed:", status=Status.SENDING)
        .values_list("message_id", flat=True))


def test_a_campaign_survives_a_killed_worker_and_a_refusing_server_with_duplicates_only_in_flight(
        start_worker, receiver, tmp_path):
    queue_campaign()
    started = time.monotonic()
    killed = start_worker("killed", f"email.after_smtp:sleep=600@{STALL_AFTER}")
    start_worker("steady")

    # The killed worker stalls after its STALL_AFTER-th accepted message: each of its
    # connections stops right after the server's next acceptance. Stalled: the set of
    # such messages stays the same (a running worker marks them within milliseconds).
    seen: list[set[str]] = []

    def stalled() -> bool:
        assert killed.poll() is None, (tmp_path / "killed.log").read_text()
        held = held_by_killed_worker({mid for mid, _ in receiver.received()})
        seen.append(held)
        return len(seen) > 6 and bool(held) and all(s == held for s in seen[-6:])

    wait_until(lambda: time.sleep(0.25) or stalled(), 240, "the killed worker to stall")
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    in_flight = held_by_killed_worker({mid for mid, _ in receiver.received()})
    assert in_flight == seen[-1], "the killed worker's lease ran out before it was killed"
    assert 1 <= len(in_flight) <= CONNECTIONS
    print(f"\nkilled after {time.monotonic() - started:.1f} s, "
          f"{receiver.count()} messages received, {len(in_flight)} in flight")

    # Later, while the survivor sends alone, the server refuses connections a while.
    wait_until(lambda: time.sleep(0.2) or receiver.count() >= MESSAGES * 0.6, 300,
               "the survivor to send more")
    refused_at = time.monotonic()
    receiver.refuse()
    time.sleep(REFUSED_SECONDS)
    receiver.listen()
    refused_for = time.monotonic() - refused_at

    last_report = time.monotonic()

    def finished() -> bool:
        nonlocal last_report
        counts = dict(Counter(EmailMessage.objects.values_list("status", flat=True)))
        lost = {s: n for s, n in counts.items()
                if s not in (Status.QUEUED, Status.SENDING, Status.SENT)}
        assert not lost, (f"messages given up: {counts}", list(EmailMessage.objects.exclude(
            status__in=(Status.QUEUED, Status.SENDING, Status.SENT)).values_list(
            "error", flat=True)[:5]))
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            print(f"{last_report - started:.0f} s: {counts}, {receiver.count()} received")
        return not EmailMessage.objects.exclude(status=Status.SENT, claimed_by="").exists()

    wait_until(lambda: time.sleep(0.5) or finished(), FINISH_WITHIN,
               "every message to be sent and released")
    total = time.monotonic() - started

    received = receiver.received()
    rows = dict(EmailMessage.objects.values_list("message_id", "to_email"))
    assert len(rows) == MESSAGES and "" not in rows
    by_id = Counter(mid for mid, _ in received)
    assert set(by_id) == set(rows)  # every message arrived, and nothing else
    # Each recipient got its own row's Message-ID only: a duplicate is the same message.
    for mid, rcpt in received:
        assert rows[mid] == rcpt
    twice = {mid for mid, n in by_id.items() if n > 1}
    duplicates = sum(n - 1 for n in by_id.values())
    assert twice <= in_flight
    assert duplicates <= len(in_flight) <= CONNECTIONS
    # The refused window reached the sender: the messages it was trying got an attempt.
    tried_while_refused = (tmp_path / "steady.log").read_text().count("failed (unreachable)")
    assert tried_while_refused >= 1
    sent_events = Event.objects.filter(type=EventType.EMAIL_SENT)
    assert sent_events.count() == sent_events.values("lead_id").distinct().count() == MESSAGES
    print(f"in flight on the killed worker: {len(in_flight)}, delivered twice: {duplicates}, "
          f"refused-connection window: {refused_for:.1f} s, total time {total:.1f} s")
    print(f"messages tried while the server refused (an attempt each, then a backoff): "
          f"{tried_while_refused}")
