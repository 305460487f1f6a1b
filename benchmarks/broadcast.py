"""One-off send benchmark: a list of 100,000 leads filled and its send queued.

    python benchmarks/broadcast.py [--leads 100000] [--postgres URL] [--database NAME]

Generates the leads (benchmarks/datagen.py) in a throw-away database (a temporary SQLite
file by default; with --postgres, the database NAME, default `leadflow_bench_broadcast`,
created and dropped on that server), then measures:
- filling the list through the service, in calls of lists.services.MAX_ITEMS leads;
- queueing the send (lists.broadcasts.run_due: one INSERT ... SELECT of the outbox rows);
- running the job again (nothing queued twice);
- the report (its grouped queries).
Prints each figure and one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datagen_db import drop_database, setup_django  # noqa: E402 (after the path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--database", default="leadflow_bench_broadcast")
    args = parser.parse_args()
    # Wake-ups only queued: the benchmark runs the job itself (an immediate backend would
    # queue and send everything inside start()).
    setup_django(args.postgres or None, args.database, task_backend="db")
    try:
        run(args)
    finally:
        if args.postgres:
            drop_database(args.postgres, args.database)


def run(args: argparse.Namespace) -> None:

    import datagen

    from leadflow.accounts.models import Role, User
    from leadflow.emails.models import EmailMessage, EmailTemplate
    from leadflow.leads.models import Lead
    from leadflow.lists import broadcasts, services

    datagen.generate(datagen.Spec(leads=args.leads, events=0, owners=5))
    marketer = User.objects.create(username="mia", role=Role.MARKETING)
    template = EmailTemplate.objects.create(name="News", subject="News", body_text="Hi.")
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    lead_list = services.create_list(marketer, name="Everyone")

    t = time.perf_counter()
    for start in range(0, len(ids), services.MAX_ITEMS):
        services.add_members(marketer, lead_list, lead_ids=ids[start:start + services.MAX_ITEMS])
    fill_s = time.perf_counter() - t
    print(f"list filled: {len(ids):,} leads in {fill_s:.2f} s "
          f"({len(ids) / fill_s:,.0f} leads/s)")

    send = broadcasts.start(marketer, broadcasts.create(marketer, {
        "name": "News", "template": template.pk, "list": lead_list.pk}))
    t = time.perf_counter()
    broadcasts.run_due()
    queue_s = time.perf_counter() - t
    queued = EmailMessage.objects.filter(broadcast=send).count()
    print(f"send queued: {queued:,} messages in {queue_s:.2f} s "
          f"({queued / queue_s:,.0f} messages/s)")

    from leadflow.core import clock

    send.refresh_from_db()
    type(send).objects.filter(pk=send.pk).update(due_at=clock.now(), claimed_by="")
    t = time.perf_counter()
    broadcasts.run_due()
    again_s = time.perf_counter() - t
    again = EmailMessage.objects.filter(broadcast=send).count()
    print(f"job run again: {again - queued} more messages, {again_s:.2f} s")

    send.refresh_from_db()
    t = time.perf_counter()
    report = broadcasts.report(send)
    report_ms = (time.perf_counter() - t) * 1000
    print(f"report: {report_ms:.0f} ms (queued {report.queued:,}, "
          f"no address {report.skipped.get('no_address', 0):,})")
    print(json.dumps({"leads": len(ids), "fill_s": round(fill_s, 2),
                      "queue_s": round(queue_s, 2), "queued": queued,
                      "duplicates": again - queued, "rerun_s": round(again_s, 2),
                      "report_ms": round(report_ms)}))


if __name__ == "__main__":
    main()
