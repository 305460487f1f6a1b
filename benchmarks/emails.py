"""Email benchmark (issue 11): marketing messages rendered and delivered per second by one
worker process, on PostgreSQL, against a receiving SMTP server in its own process.

    python benchmarks/emails.py [--postgres URL] [--database NAME] [--messages 20000]
                               [--connections 4] [--batch 200] [--ceiling-messages 5000]
                               [--copy-rows 1000000] [--profile] [--keep]

Creates the database NAME (default `leadflow_bench_email`) on the server of URL (dropped
at the end unless --keep), generates --messages leads (benchmarks/datagen.py; all with
marketing consent, 20 owners), a template from the newsletter starter (MJML through mrml,
10 tracked links, personalised with the lead's first name, company, city and owner), and
queues a one-off send of it to a list of them all (lists.broadcasts: one outbox row per
lead, rendered by the worker that claims it). Then, in one run:
1. `render_per_s`: emails.services.render_messages on the queued rows, in batches as the
   worker claims them (the batch's personalisation data and its tracked links included),
   inside a transaction rolled back afterwards; and `mime_per_s`, the MIME bytes of each
   rendered message (emails.delivery.as_bytes: what the SMTP threads build);
2. `smtp_ceiling_per_s`: a bare smtplib sender of --ceiling-messages of those bytes over
   the same number of connections to the sink: what this machine's Python and the sink
   can carry at all, without a database;
3. `emails_per_s_per_worker`: emails.outbox.send_due in this one process, from the first
   claim of the outbox rows until every row is marked sent and its `email_sent` event
   stored (target at least 1,000/s), then checked in the database (rows sent, events,
   links) and at the sink (`duplicates`: messages received minus distinct Message-IDs),
   with the split of its time (claim, policy, render, SMTP, marking, events);
4. the machine's COPY ceiling (rows/s), as the other benchmarks give it.
The sink is benchmarks/smtp_sink.py (aiosmtpd would measure its own line-by-line parsing).
Prints each figure with its target, the load average (the machine is shared), and one
JSON object on the last line. --profile runs the send under cProfile and prints its top
costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402 (after the path)
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import smtplib  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from datagen_db import copy_ceiling, drop_database, setup_django  # noqa: E402

TARGET_PER_S = 1_000
LINKS = 10
SINK = HERE / "smtp_sink.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """benchmarks/smtp_sink.py in its own process."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen([sys.executable, str(SINK), str(port)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "listening":
            self.proc.kill()
            raise SystemExit("the SMTP sink did not start")

    def stop(self) -> dict[str, int]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        counts = json.loads(out.strip().splitlines()[-1])
        counts["duplicates"] = counts["messages"] - counts["distinct"]
        return counts


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fixture(n: int) -> Any:
    """n leads with consent, the newsletter template, and its one-off send queued
    (n outbox rows); returns the template."""
    import datagen

    from leadflow.accounts.models import Role, User
    from leadflow.emails.models import EmailMessage, EmailTemplate
    from leadflow.emails.starters import STARTERS
    from leadflow.leads.models import Lead
    from leadflow.lists import broadcasts, services

    result = datagen.generate(datagen.Spec(leads=n, events=0, owners=20))
    print(datagen.describe(result))
    Lead.objects.update(marketing_consent=True)  # datagen gives 70% of them consent
    starter = STARTERS["newsletter"]
    template = EmailTemplate.objects.create(
        name="Newsletter", subject=starter.subject, body_html=starter.body(),
        body_format=EmailTemplate.Format.MJML, marketing=True)
    marketer = User.objects.create(username="mia", role=Role.MARKETING)
    lead_list = services.create_list(marketer, name="Everyone")
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), services.MAX_ITEMS):
        services.add_members(marketer, lead_list,
                             lead_ids=ids[start:start + services.MAX_ITEMS])
    send = broadcasts.start(marketer, broadcasts.create(marketer, {
        "name": "Newsletter", "template": template.pk, "list": lead_list.pk}))
    broadcasts.run_due()
    queued = EmailMessage.objects.filter(broadcast=send, status="queued").count()
    if queued != n:
        raise SystemExit(f"{queued} messages queued for {n} leads")
    print(f"queued: {queued:,} newsletter messages (a one-off send to a list of them all)")
    return template


def settle() -> None:
    """VACUUM ANALYZE, as autovacuum would have by then (else it runs during a measure)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def measure_render(batch: int, keep: int) -> dict[str, Any]:
    """Render every queued message in batches of `batch`, as a worker would (rolled back:
    the send renders them again), and the MIME bytes of each; returns the rates and the
    envelopes of the first `keep` messages for the bare sender."""
    from django.db import transaction

    from leadflow.emails import delivery, services
    from leadflow.emails.models import EmailMessage

    ids = list(EmailMessage.objects.filter(status="queued").order_by("due_at", "pk")
               .values_list("pk", flat=True))
    render_s = mime_s = 0.0
    links = 0
    envelopes: list[tuple[str, str, bytes]] = []
    sample: EmailMessage | None = None
    with transaction.atomic():
        for start in range(0, len(ids), batch):
            messages = list(EmailMessage.objects.filter(pk__in=ids[start:start + batch])
                            .select_related("lead", "template", "sender", "template__sender"))
            t = time.perf_counter()
            services.render_messages(messages)
            render_s += time.perf_counter() - t
            delivery.assign_senders(messages)
            t = time.perf_counter()
            built = [(m, *delivery.as_bytes(m)) for m in messages]
            mime_s += time.perf_counter() - t
            for m, sender, data in built:
                if len(envelopes) < keep:
                    envelopes.append((sender, m.to_email, data))
            sample = sample or messages[0]
        from leadflow.emails.models import EmailLink

        links = EmailLink.objects.count()
        transaction.set_rollback(True)
    assert sample is not None
    lead = sample.lead
    personalised = (lead.first_name in sample.subject
                    and lead.first_name in sample.body_html
                    and (lead.company_name or "you") in sample.body_html)
    if links != LINKS * len(ids):
        raise SystemExit(f"{links} tracked links for {len(ids)} messages, not {LINKS} each")
    if not personalised:
        raise SystemExit(f"message {sample.pk} does not name its lead: {sample.subject!r}")
    size = sum(len(d) for _s, _t, d in envelopes) / max(len(envelopes), 1)
    print(f"rendered: {len(ids):,} messages in {render_s:.2f} s, MIME built in "
          f"{mime_s:.2f} s; {links // len(ids)} tracked links each, personalised "
          f"(e.g. {sample.subject!r}); {size / 1024:.1f} KiB a message")
    return {"render_per_s": len(ids) / render_s, "mime_per_s": len(ids) / mime_s,
            "message_bytes": round(size), "envelopes": envelopes}


def bare_send(port: int, connections: int, envelopes: list[tuple[str, str, bytes]]) -> float:
    """Messages/s of plain smtplib over `connections` connections, a thread each, as
    emails.delivery uses them, but with nothing else to do."""
    def one(part: list[tuple[str, str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
            for sender, to, data in part:
                smtp.sendmail(sender, [to], data)

    threads = [threading.Thread(target=one, args=(envelopes[i::connections],))
               for i in range(connections)]
    t = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(envelopes) / (time.perf_counter() - t)


def instrument(split: dict[str, float], calls: dict[str, int]) -> None:
    """Time the send's parts (module attributes wrapped: the code is unchanged)."""
    from leadflow.core import workqueue
    from leadflow.emails import delivery, outbox, policy, services

    def timed(module: Any, name: str, bucket: str) -> None:
        inner: Callable[..., Any] = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                split[bucket] += time.perf_counter() - t
                calls[bucket] += 1

        setattr(module, name, wrapper)

    timed(workqueue, "claim", "claim")
    timed(policy, "decide", "policy")
    timed(services, "render_messages", "render")
    timed(outbox, "_render", "render_and_store")
    timed(delivery, "assign_senders", "senders")
    timed(delivery, "deliver", "deliver")
    timed(delivery, "_mark_sent", "mark_sent")
    timed(outbox, "_record_sent", "events_and_release")


def measure_send(n: int, profile: bool) -> dict[str, Any]:
    from django.db.models import Count

    from leadflow.emails import outbox
    from leadflow.emails.models import EmailLink, EmailMessage
    from leadflow.tracking.models import Event

    split: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    instrument(split, calls)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t = time.perf_counter()
    attempted = outbox.send_due(worker="bench-email")
    seconds = time.perf_counter() - t
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    statuses = dict(EmailMessage.objects.values_list("status").annotate(Count("pk")))
    held = EmailMessage.objects.exclude(claimed_by="").count()
    events = Event.objects.filter(type="email_sent").count()
    links = EmailLink.objects.count()
    sent = statuses.get("sent", 0)
    ok = sent == n and events == n and held == 0 and links == LINKS * n
    print(f"sent: {attempted:,} attempted in {seconds:.2f} s; in the database: {statuses}, "
          f"{events:,} email_sent events, {links:,} tracked links, {held} rows still held"
          f" ({'complete' if ok else 'INCOMPLETE'})")
    # The SMTP threads run beside the calling thread: "deliver" is the wall time of the
    # SMTP phase, marking included; the rest of the run is the database and rendering.
    parts = {k: round(v, 2) for k, v in split.items()}
    parts["smtp_excluding_mark"] = round(split["deliver"] - split["mark_sent"], 2)
    parts["store_rendered"] = round(split["render_and_store"] - split["render"], 2)
    parts["other"] = round(seconds - sum(split[k] for k in (
        "claim", "policy", "render_and_store", "senders", "deliver",
        "events_and_release")), 2)
    return {"seconds": seconds, "sent": sent, "events": events, "links": links,
            "held": held, "complete": ok, "split_s": parts, "calls": dict(calls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL",
                        default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="leadflow_bench_email")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=4,
                        help="SMTP connections of the worker (LEADFLOW_SMTP_CONNECTIONS)")
    parser.add_argument("--batch", type=int, default=200,
                        help="rows claimed per batch (LEADFLOW_EMAIL_BATCH)")
    parser.add_argument("--ceiling-messages", type=int, default=5_000,
                        help="messages the bare sender sends (kept in memory)")
    parser.add_argument("--copy-rows", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the send")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    port = free_port()
    os.environ.update({"LEADFLOW_SMTP_HOST": "127.0.0.1", "LEADFLOW_SMTP_PORT": str(port),
                       "LEADFLOW_SMTP_CONNECTIONS": str(args.connections),
                       "LEADFLOW_EMAIL_BATCH": str(args.batch)})
    # Wake-ups are only queued: this process runs the send itself.
    url = setup_django(args.postgres, args.database, task_backend="db",
                       email_backend="django.core.mail.backends.smtp.EmailBackend")
    try:
        figures = run(args, url, port)
    finally:
        if not args.keep:
            drop_database(args.postgres, args.database)
    print(json.dumps(figures))


def run(args: argparse.Namespace, url: str, port: int) -> dict[str, Any]:
    from django.db import connection

    n = args.messages
    figures: dict[str, Any] = {"messages": n, "connections": args.connections,
                               "batch": args.batch}
    fixture(n)
    settle()

    # 1. Rendering alone (and the MIME bytes), no SMTP.
    rendered = measure_render(args.batch, min(args.ceiling_messages, n))
    envelopes = rendered.pop("envelopes")
    figures.update({k: round(v) for k, v in rendered.items()})
    settle()  # the rolled-back links are dead rows

    # 2. The bare sender's ceiling, against a sink of its own.
    sink = Sink(free_port())
    ceiling = bare_send(sink.port, args.connections, envelopes)
    got = sink.stop()
    del envelopes
    figures["smtp_ceiling_per_s"] = round(ceiling)
    figures["smtp_ceiling_messages"] = got["messages"]
    print(f"bare sender: {got['messages']:,} messages in {args.connections} connections, "
          f"{ceiling:,.0f}/s")

    # 3. The worker: claim, checks, render, SMTP, marking, events.
    load_before = load_average()
    sink = Sink(port)
    try:
        sent = measure_send(n, args.profile)
    finally:
        got = sink.stop()
    rate = sent["sent"] / sent["seconds"]
    figures.update({"emails_per_s_per_worker": round(rate), "send_s": round(sent["seconds"], 2),
                    "complete": sent["complete"], "received": got["messages"],
                    "duplicates": got["duplicates"], "split_s": sent["split_s"],
                    "calls": sent["calls"]})
    connection.close()

    # 4. The COPY ceiling, in the same run.
    copy_rate = copy_ceiling(url, args.copy_rows)
    figures["copy_rows_per_s"] = round(copy_rate)
    figures["emails_vs_copy"] = round(rate / copy_rate, 4)
    figures["load_average"] = f"{load_before} (before the send); {load_average()} (end)"
    report(figures)
    return figures


def report(figures: dict[str, Any]) -> None:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rate, ceiling = figures["emails_per_s_per_worker"], figures["smtp_ceiling_per_s"]
    print(f"{'emails_per_s_per_worker':26s} {rate:>8,}   target >= {TARGET_PER_S:,} "
          f"({verdict(rate >= TARGET_PER_S)}; {rate / ceiling:.0%} of the bare sender, "
          f"{figures['emails_vs_copy']:.2%} of COPY)")
    print(f"{'render_per_s':26s} {figures['render_per_s']:>8,}   (rendering alone, "
          f"links stored; MIME bytes {figures['mime_per_s']:,}/s)")
    print(f"{'smtp_ceiling_per_s':26s} {ceiling:>8,}   (a bare smtplib sender, "
          f"{figures['connections']} connections, to the sink in its own process)")
    print(f"{'duplicates':26s} {figures['duplicates']:>8,}   target 0 "
          f"({verdict(figures['duplicates'] == 0)}; {figures['received']:,} received for "
          f"{figures['messages']:,} queued)")
    print(f"{'copy_rows_per_s':26s} {figures['copy_rows_per_s']:>8,}   (the machine's "
          "insert ceiling)")
    print(f"split of the send (s): {figures['split_s']}; calls: {figures['calls']}")
    print(f"load average: {figures['load_average']}")


if __name__ == "__main__":
    main()
