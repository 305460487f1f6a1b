"""Segments and campaigns benchmark (issue 12), on PostgreSQL, with two worker processes.

    python benchmarks/campaigns.py [--postgres URL] [--database NAME] [--leads 1000000]
                                   [--events 10000000] [--wake 100000] [--workers 2]
                                   [--latency-seconds 30] [--traffic 1000]
                                   [--copy-rows 1000000] [--keep] [--skip PART ...]

Creates the database NAME (default `leadflow_bench_campaigns`; dropped at the end unless
--keep), generates --leads leads and --events events with the shared generator
(benchmarks/datagen.py), then measures, in one run:
1. `segment_rebuild_s`: the full rebuild of story 4's behavioural segment ("more than 5
   product pages viewed": at least 6 `page_view` whose path contains /product/; the
   generator's pages have no /tv/) over every lead, as a worker runs it
   (segments.builds.run_due: the claim, the rebuild, the release);
2. `campaign_1m_step_s`: every lead enters a campaign (enroll_many, in chunks, as a bulk
   enrolment does) whose steps are add points (+1: the ledger and the score written), a
   condition (score at least 1) and a wait; timed from the first enrolment to the last
   membership past the condition, the worker processes walking meanwhile;
3. `wake_100k_s`: --wake memberships waiting at a decision ("did bench_ping within a day")
   are woken by their events: timed from the first of --wake events posted to
   /api/v1/events (batches of 1,000) to the last membership past the decision;
4. `segment_latency_p95_s`: while --traffic page views per second (other traffic) are
   posted, one lead a tenth of a second records the event that puts it in a segment; the
   time from its post to its membership row, p95 over --latency-seconds;
5. the machine's COPY ceiling (rows/s), and each figure beside it.
Workers are processes of this script (`--worker`), each looping over what a worker tick
does for this work (segments.builds.run_due, segments.services.refresh_due,
campaigns.engine.run_due_enrollments).
Prints each figure with its target, the load average (the machine may be shared), and one
JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from datagen_db import copy_ceiling, drop_database, setup_django  # noqa: E402

TARGETS = {"segment_rebuild_s": 10, "campaign_1m_step_s": 60, "wake_100k_s": 10,
           "segment_latency_p95_s": 5}
PRODUCT_VIEWS = {"event": {"type": "page_view", "min": 6, "where": [
    {"field": "path", "op": "contains", "value": "/product/"}]}}
STOP = "stop"
PROGRESS_EVERY = 15
AUTOVACUUM_EVERY = 30


def worker_loop(stop_file: Path) -> None:
    """A worker: what a tick does for segments and campaigns, as fast as there is work."""
    from leadflow.campaigns.engine import run_due_enrollments
    from leadflow.segments.builds import run_due as build_segments
    from leadflow.segments.services import refresh_due

    while not stop_file.exists():
        done = build_segments() + refresh_due() + run_due_enrollments(limit=1000)
        if not done:
            time.sleep(0.02)


class Workers:
    def __init__(self, n: int, url: str, tmp: Path) -> None:
        self.stop_file = tmp / STOP
        self.stop_file.unlink(missing_ok=True)
        env = {**os.environ, "DATABASE_URL": url}
        self.procs = [subprocess.Popen([sys.executable, __file__, "--worker",
                                        str(self.stop_file)], env=env)
                      for _ in range(n)]

    def stop(self) -> None:
        self.stop_file.touch()
        for p in self.procs:
            p.wait(timeout=120)


def wait_for(condition: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


class Progress:
    """Prints how many are done every PROGRESS_EVERY seconds while waiting (how the rate
    holds as the tables grow)."""

    def __init__(self, started: float, what: str) -> None:
        self.started, self.what, self.last, self.last_n = started, what, started, 0

    def at(self, n: int) -> int:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY:
            rate = (n - self.last_n) / (now - self.last)
            print(f"  {now - self.started:6.0f} s: {n:,} {self.what} ({rate:,.0f}/s)",
                  flush=True)
            self.last, self.last_n = now, n
        return n


def generate(leads: int, events: int) -> None:
    import datagen

    started = time.monotonic()
    result = datagen.generate(datagen.Spec(leads=leads, events=events))
    print(f"generated in {time.monotonic() - started:.0f} s: {datagen.describe(result)}",
          flush=True)


def measure_rebuild() -> dict[str, Any]:
    from leadflow.accounts.permissions import Actor
    from leadflow.segments import builds, services

    # Inactive: the later parts' page views queue no refresh of it.
    segment = services.create_segment(Actor.system(), name="Bench product views",
                                      filter=PRODUCT_VIEWS, active=False)
    started = time.monotonic()
    assert builds.run_due() == 1  # what a worker does with it
    took = time.monotonic() - started
    segment.refresh_from_db()
    return {"segment_rebuild_s": round(took, 2), "segment_members": segment.member_count}


def _campaign(name: str, steps: list[dict[str, Any]]) -> Any:
    from leadflow.campaigns.models import Campaign, Step

    campaign = Campaign.objects.create(name=name)
    Step.objects.bulk_create([Step(campaign=campaign, position=i, **s)
                              for i, s in enumerate(steps, start=1)])
    return campaign


def measure_campaign(workers: Workers | None, chunk: int = 5000) -> dict[str, Any]:
    from leadflow.campaigns.models import Enrollment, Step
    from leadflow.campaigns.services import enroll_many
    from leadflow.leads.models import Lead

    campaign = _campaign("Bench 1M", [
        {"kind": Step.Kind.ADD_POINTS, "points": 1},
        {"kind": Step.Kind.CONDITION,
         "config": {"filter": {"field": "score", "op": "gte", "value": 1}}},
        {"kind": Step.Kind.WAIT, "wait_seconds": 86400}])
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    for i in range(0, len(ids), chunk):
        enroll_many(ids[i:i + chunk], campaign)
    enrolled = time.monotonic() - started
    # The step counters are polled (one row), not the memberships (a count over up to
    # a million rows, 20 times a second, took a core of the database's time).
    progress = Progress(started, "past the condition")
    wait_for(lambda: progress.at(_left_step(campaign, 2)) >= len(ids), 3600,
             "the memberships past the condition")
    took = time.monotonic() - started
    assert Enrollment.objects.filter(campaign=campaign, next_position=3).count() == len(ids)
    return {"campaign_1m_step_s": round(took, 1), "campaign_enrol_s": round(enrolled, 1),
            "campaign_leads": len(ids)}


def _left_step(campaign: Any, position: int) -> int:
    """How many memberships went on from the step (its counters: passed and exited)."""
    from leadflow.campaigns.models import StepStat

    row = StepStat.objects.filter(campaign=campaign, position=position).values_list(
        "passed", "exited").first()
    return sum(row) if row else 0


class Autovacuum:
    """A stand-in for autovacuum when the server runs without it (as CI's does): every
    AUTOVACUUM_EVERY seconds, VACUUM ANALYZE of the tables the run rewrites, as the
    daemon would do on a production server. Without it, the memberships' dead row
    versions pile up and their statistics stay those of an empty table."""

    TABLES = ("campaigns_enrollment", "campaigns_stepstat", "scoring_scoreentry",
              "leads_lead", "segments_dirtylead")

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            self.needed = cursor.fetchone()[0] == "off"
        self.stop_flag = threading.Event()
        self.runs = 0
        if self.needed:
            print("autovacuum is off on this server: the benchmark runs VACUUM ANALYZE "
                  f"every {AUTOVACUUM_EVERY} s in its place", flush=True)
            self.thread = threading.Thread(target=self.loop, daemon=True)
            self.thread.start()

    def loop(self) -> None:
        from django.db import connection

        while not self.stop_flag.wait(AUTOVACUUM_EVERY):
            with connection.cursor() as cursor:
                for table in self.TABLES:
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
            self.runs += 1
        connection.close()

    def stop(self) -> None:
        self.stop_flag.set()
        if self.needed:
            self.thread.join()


def measure_wake(n: int, token: str) -> dict[str, Any]:
    from django.test import Client

    from leadflow.campaigns.models import Enrollment, Step, StepStat
    from leadflow.campaigns.services import enroll_many
    from leadflow.leads.models import Lead

    campaign = _campaign("Bench wake", [
        {"kind": Step.Kind.IF_EVENT,
         "config": {"event_type": "bench_ping", "within_seconds": 86400}},
        {"kind": Step.Kind.WAIT, "wait_seconds": 86400}])
    ids = list(Lead.objects.order_by("-pk").values_list("pk", flat=True)[:n])
    for i in range(0, len(ids), 5000):
        enroll_many(ids[i:i + 5000], campaign)
    wait_for(lambda: StepStat.objects.filter(campaign=campaign, position=1, entered__gte=len(
        ids)).exists(), 3600, "the memberships to wait")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    started = time.monotonic()
    for i in range(0, len(ids), 1000):
        r = client.post("/api/v1/events", {"events": [
            {"type": "bench_ping", "lead_id": pk} for pk in ids[i:i + 1000]]},
            content_type="application/json")
        assert r.status_code == 200, r.content[:300]
    posted = time.monotonic() - started
    wait_for(lambda: _left_step(campaign, 1) >= len(ids), 3600, "the woken memberships")
    took = time.monotonic() - started
    assert Enrollment.objects.filter(campaign=campaign, next_position=2).count() == len(ids)
    return {"wake_100k_s": round(took, 2),
            "wake_post_s": round(posted, 2), "wake_memberships": len(ids)}


def measure_latency(seconds: float, traffic: int, token: str) -> dict[str, Any]:
    from django.db import connections
    from django.test import Client

    from leadflow.accounts.permissions import Actor
    from leadflow.leads.models import Lead
    from leadflow.segments import services
    from leadflow.segments.models import SegmentMember

    segment = services.create_segment(Actor.system(), name="Bench signal",
                                      filter={"event": {"type": "bench_signal"}})
    while segment.build_state != "built":  # a worker builds it (no member yet)
        time.sleep(0.05)
        segment.refresh_from_db()
    # The subjects are the newest leads, the traffic goes to the oldest ones.
    count = Lead.objects.count()
    subjects = list(Lead.objects.order_by("-pk").values_list("pk", flat=True)[
        :int(seconds * 10) + 10])
    others = list(Lead.objects.order_by("pk").values_list("pk", flat=True)[
        :max(1, min(20000, count - len(subjects)))])
    posted: dict[int, float] = {}
    seen: dict[int, float] = {}
    done = threading.Event()

    def traffic_loop() -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        k, tick = 0, time.monotonic()
        try:
            while not done.is_set():
                batch = [{"type": "page_view", "lead_id": others[(k + j) % len(others)],
                          "properties": {"path": "/pricing"}} for j in range(traffic // 10)]
                k += len(batch)
                client.post("/api/v1/events", {"events": batch},
                            content_type="application/json")
                tick += 0.1
                time.sleep(max(0.0, tick - time.monotonic()))
        finally:
            connections.close_all()

    def watch_loop() -> None:
        try:
            while not done.is_set() or len(seen) < len(posted):
                pending = [pk for pk in posted if pk not in seen]
                if pending:
                    now = time.monotonic()
                    for pk in SegmentMember.objects.filter(
                            segment=segment, lead_id__in=pending).values_list(
                            "lead_id", flat=True):
                        seen[pk] = now
                time.sleep(0.02)
                if done.is_set() and time.monotonic() - stop_at > 60:
                    return
        finally:
            connections.close_all()

    stop_at = float("inf")
    threads = [threading.Thread(target=traffic_loop), threading.Thread(target=watch_loop)]
    for t in threads:
        t.start()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    end = time.monotonic() + seconds
    for pk in subjects:
        if time.monotonic() > end:
            break
        at = time.monotonic()
        client.post("/api/v1/events", {"events": [{"type": "bench_signal", "lead_id": pk}]},
                    content_type="application/json")
        posted[pk] = at
        time.sleep(max(0.0, at + 0.1 - time.monotonic()))
    stop_at = time.monotonic()
    done.set()
    for t in threads:
        t.join()
    delays = sorted(seen[pk] - posted[pk] for pk in seen)
    p95 = delays[int(len(delays) * 0.95) - 1] if delays else None
    return {"segment_latency_p95_s": round(p95, 2) if p95 is not None else None,
            "segment_latency_median_s": round(statistics.median(delays), 2) if delays
            else None, "segment_latency_samples": len(delays),
            "segment_latency_missed": len(posted) - len(seen)}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
        django.setup()
        worker_loop(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="leadflow_bench_campaigns")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--wake", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--traffic", type=int, default=1000)
    parser.add_argument("--copy-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["rebuild", "campaign", "wake", "latency"])
    args = parser.parse_args()
    url = setup_django(args.postgres, args.database, task_backend="db")
    figures: dict[str, Any] = {}
    try:
        figures = run(args, url)
    finally:
        if not args.keep:
            drop_database(args.postgres, args.database)
    report(figures)


def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from leadflow.accounts.models import Role, User
    from leadflow.accounts.services import create_token

    generate(args.leads, args.events)
    admin = User.objects.create_user("bench", password="x", role=Role.ADMIN)
    token = create_token(admin)[1]
    figures: dict[str, Any] = {"leads": args.leads, "events": args.events}
    if "rebuild" not in args.skip:
        figures |= measure_rebuild()
        print(figures, flush=True)
    workers = Workers(args.workers, url, Path(os.environ["LEADFLOW_DATA_DIR"]))
    autovacuum = Autovacuum()
    try:
        if "campaign" not in args.skip:
            figures |= measure_campaign(workers)
            print(figures, flush=True)
        if "wake" not in args.skip:
            figures |= measure_wake(min(args.wake, args.leads), token)
            print(figures, flush=True)
        if "latency" not in args.skip:
            figures |= measure_latency(args.latency_seconds, args.traffic, token)
    finally:
        autovacuum.stop()
        workers.stop()
    figures["copy_rows_per_s"] = round(copy_ceiling(url, args.copy_rows))
    figures["load_average"] = os.getloadavg()[0]
    return figures


def report(figures: dict[str, Any]) -> None:
    copy = figures.get("copy_rows_per_s")
    for name, target in TARGETS.items():
        value = figures.get(name)
        if value is None:
            print(f"{name}: not measured (target under {target} s)")
            continue
        verdict = "MET" if value < target else "MISSED"
        print(f"{name}: {value} s (target under {target} s: {verdict})")
    if copy:
        print(f"machine COPY ceiling: {copy:,} rows/s; 1,000,000 rows would take "
              f"{1_000_000 / copy:.1f} s")
    print(f"load average: {figures.get('load_average')}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
