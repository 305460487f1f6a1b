"""Ingest benchmark: tracking events through the HTTP API, a 100,000-row import, and the
machine's raw insert ceiling, all on PostgreSQL, in one run.

    python benchmarks/ingest.py [--postgres URL] [--leads 20000] [--batches 60]
                                [--singles 3000] [--clients 4] [--rows 100000]
                                [--threads 8] [--processes CPUS]

Creates a database `leadflow_bench_ingest` on the server (dropped at the end), loads leads,
the scoring rules of PRODUCT.md, an MQL threshold and a campaign entering on
newsletter_signup, then starts a real server (`leadflow serve`, waitress) on a free
loopback port and measures:
- events accepted per second, POSTed to /api/v1/events by concurrent keep-alive clients
  in batches of 1,000 (page views of existing leads, each later than the one before, as
  in a live stream; some with idempotency keys; some newsletter sign-ups), and one event
  per request;
- the website collector (/t/collect), when the tracking app has one;
- the lead importer on a generated 100,000-row CSV, when leadflow.imports has one;
- the raw insert ceiling: psycopg COPY of the same number of event-like rows into a plain
  table, so every figure is also a ratio to what this machine can insert at all.
Prints each figure with its target, and one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "leadflow_bench_ingest"
BATCH = 1000
TARGET_EVENTS_PER_S = 10_000
TARGET_IMPORT_S = 30
SERVER_LOG = Path(tempfile.gettempdir()) / "leadflow-bench-ingest-server.log"


def setup(args) -> str:
    """Create the bench database, configure Django on it, migrate. Returns its URL."""
    import psycopg

    tmp = tempfile.mkdtemp(prefix="leadflow-bench-ingest-")
    base = args.postgres.rstrip("/")
    server = base.rpartition("/")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    url = f"{server}/{DB_NAME}"
    os.environ.update({
        "LEADFLOW_DATA_DIR": tmp,
        "LEADFLOW_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        # Enrolments enqueue their first step; no worker runs it during the measure.
        "LEADFLOW_TASK_BACKEND": "db",
        "LEADFLOW_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "leadflow.settings",
    })
    os.environ.setdefault("LEADFLOW_SECRET_KEY", "bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def generate(n_leads: int) -> tuple[list[int], str]:
    """Leads, rules, threshold, campaign and an API token. Returns (lead ids, token)."""
    from leadflow.accounts.models import Role, User
    from leadflow.accounts.services import create_token
    from leadflow.campaigns.models import Campaign, Step
    from leadflow.core import clock
    from leadflow.leads.models import Lead
    from leadflow.leads.stages import Stage
    from leadflow.lifecycle.models import StageThreshold
    from leadflow.scoring.models import ScoreRule
    from leadflow.server.demo import SCORE_RULES

    admin = User.objects.create(username="bench-admin", role=Role.ADMIN, is_superuser=True,
                                is_staff=True)
    for name, event_type, conditions, points, category, once in SCORE_RULES:
        ScoreRule.objects.create(name=name, event_type=event_type,
                                 conditions=[{"field": k, "op": "equals", "value": v}
                                             for k, v in conditions.items()],
                                 points=points, category=category, max_times=1 if once else None)
    StageThreshold.objects.create(stage=Stage.MQL, min_score=15)
    campaign = Campaign.objects.create(name="Welcome nurture",
                                       entry_event_type="newsletter_signup",
                                       goal_event_type="won")
    Step.objects.create(campaign=campaign, position=1, kind=Step.Kind.ADD_POINTS, points=5)
    now = clock.now()
    for start in range(0, n_leads, 5000):
        Lead.objects.bulk_create([
            Lead(email=f"lead{i}@example.com", first_name=f"First{i}", last_name=f"Last{i}",
                 company_name=f"Company {i % 3000}", source="google", stage=Stage.LEAD,
                 created_at=now, updated_at=now)
            for i in range(start, min(n_leads, start + 5000))])
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    return ids, create_token(admin, "bench")[1]


def settle() -> None:
    """VACUUM ANALYZE what the previous phase wrote, as a live database would have done by
    then: otherwise autovacuum does it during the next measure, on the same 2 cores."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, threads: int, processes: int) -> subprocess.Popen:
    # One client address sends everything: the per-IP limit of the collector is lifted.
    env = {**os.environ, "DATABASE_URL": url, "LEADFLOW_DEBUG": "0",
           "LEADFLOW_TRACKING_RATE_LIMIT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from leadflow.cli import main; raise SystemExit(main())",
         "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
         "--processes", str(processes)],
        cwd=ROOT, env=env, stdout=SERVER_LOG.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {SERVER_LOG.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (Linux), to compare runs on a
    busy machine."""
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields and (int(entry.name) == pid or int(fields[1]) == pid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU time of every PostgreSQL process on this machine (backends, WAL writer...), when
    the server runs here; None otherwise."""
    total, seen = 0, False
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name in ("postgres", "postmaster") and (fields := _stat(int(entry.name))):
            total += int(fields[11]) + int(fields[12])
            seen = True
    return total / os.sysconf("SC_CLK_TCK") if seen else None


def event_batches(ids: list[int], n_batches: int, size: int, tag: str) -> list[bytes]:
    """Pre-encoded request bodies, so that the clients measure the server, not json.dumps.
    Page views (one in ten on /pricing, which scores), each at its own time, 2% newsletter
    sign-ups (which score and enter the campaign), half of them with an idempotency key."""
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=1)
    bodies = []
    n = 0
    for _ in range(n_batches):
        events = []
        for _ in range(size):
            n += 1
            lead = rng.choice(ids)
            if rng.random() < 0.02:
                ev = {"type": "newsletter_signup", "lead_id": lead,
                      "properties": {"form": "newsletter"}}
            else:
                path = "/pricing" if rng.random() < 0.1 else f"/blog/post-{rng.randint(1, 500)}"
                # Each view at its own time, later than the ones before (a live stream:
                # every view moves its lead's last touch).
                at = (start + timedelta(milliseconds=n)).isoformat()
                ev = {"type": "page_view", "lead_id": lead, "occurred_at": at,
                      "properties": {"path": path, "title": "A page", "referrer": "https://www.google.com/",
                                     "utm_source": "newsletter"}}
            if n % 2:
                ev["idempotency_key"] = f"{tag}-{n}"
            events.append(ev)
        bodies.append(json.dumps({"events": events}).encode())
    return bodies


def post_all(port: int, path: str, bodies: list[bytes], clients: int,
             headers: dict[str, str], expect: int, *, keep_alive: bool = True
             ) -> tuple[float, int]:
    """POST every body from `clients` threads at once, each on one keep-alive connection,
    or on a new connection per request (as nginx talks to its upstreams by default: with
    several server processes, each connection goes to whichever accepts it first, so a
    few long-lived connections could all land on one process). Returns (seconds, events
    accepted as reported by the server)."""
    lock = threading.Lock()
    queue = list(reversed(bodies))
    accepted = [0]
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue or errors:
                    break
                body = queue.pop()
            if not keep_alive:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != expect:
                with lock:
                    errors.append(f"{resp.status}: {data[:300]!r}")
                break
            if path == "/api/v1/events":
                out = json.loads(data)
                n = out["created"] + out["duplicates"]
            else:
                n = 1
            with lock:
                accepted[0] += n
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise SystemExit(f"{path} failed: {errors[0]}\nserver log ({SERVER_LOG}):\n"
                         f"{SERVER_LOG.read_text()[-3000:]}")
    return elapsed, accepted[0]


def collect_site() -> str | None:
    """A tracking site for the website collector, if the tracking app has one."""
    try:
        from leadflow.tracking.sites import create_site
    except ImportError:
        return None
    return create_site("Bench site", "www.example.com").key


def measure_collect(port: int, site_key: str, n: int, clients: int) -> float:
    """Events per second through the website collector: beacons of 10 page views from
    500 anonymous visitors, as the snippet sends them."""
    bodies = []
    for i in range(n // 10):
        bodies.append(json.dumps({"site": site_key, "vid": f"benchvisitor{i % 500:04d}",
                                  "events": [
            {"type": "page_view", "key": f"k{i}-{j}", "ts": int(time.time() * 1000),
             "props": {"url": f"https://www.example.com/blog/{j}?utm_source=newsletter",
                       "title": "A page", "referrer": "https://www.google.com/"}}
            for j in range(10)]}).encode())
    headers = {"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
               "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
               "Origin": "https://www.example.com"}
    post_all(port, "/t/collect", bodies[:clients], clients, headers, 200)  # warm-up
    elapsed, _ = post_all(port, "/t/collect", bodies[clients:], clients, headers, 200)
    return (len(bodies) - clients) * 10 / elapsed


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(3)
    countries = ["France", "FR", "Germany", "United States", "Spain", "Belgium", ""]
    sources = ["google", "linkedin", "newsletter", "trade show", "partner", "webinar"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "first_name", "last_name", "company", "country", "source",
                    "industry"])
        for i in range(rows):
            w.writerow([f"import{i}@example{i % 977}.com", f"First{i}", f"Last{i % 5003}",
                        f"Company {i % 7919}", rng.choice(countries), rng.choice(sources),
                        rng.choice(["software", "retail", "banking", "health"])])


def measure_import(rows: int) -> tuple[float | None, str]:
    """Seconds to import a generated CSV of `rows` leads with leadflow.imports, if any."""
    try:
        from leadflow.imports import services as imports
    except ImportError:
        return None, "no importer (leadflow.imports.services) in this tree"
    fn = getattr(imports, "import_path", None) or getattr(imports, "import_file", None)
    if fn is None:
        return None, "leadflow.imports.services has no import_path/import_file function"
    from leadflow.accounts.models import User

    admin = User.objects.get(username="bench-admin")
    path = Path(os.environ["LEADFLOW_DATA_DIR"]) / "leads-100k.csv"
    write_csv(path, rows)
    t = time.perf_counter()
    try:
        result = _call_importer(fn, path, admin)
    except Exception as exc:  # report it, keep the other figures
        return None, f"the importer failed: {exc!r}"
    elapsed = time.perf_counter() - t
    from leadflow.leads.models import Lead

    imported = Lead.objects.filter(email__startswith="import").count()
    note = f"{imported:,} leads present after the import; result: {str(result)[:200]}"
    return elapsed, note


def _call_importer(fn, path: Path, user):
    import inspect

    params = inspect.signature(fn).parameters
    kwargs = {}
    for name in ("user", "actor"):
        if name in params:
            kwargs[name] = user
    return fn(path, **kwargs)


def measure_copy(url: str, rows: int) -> float:
    """Rows per second of psycopg COPY into a plain table shaped like events."""
    import psycopg

    now = datetime.now(UTC)
    props = json.dumps({"path": "/pricing", "title": "A page", "referrer": "https://www.google.com/"})
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bench_copy (id bigserial PRIMARY KEY, lead_id bigint, "
                     "type varchar(60), properties jsonb, occurred_at timestamptz, "
                     "idempotency_key varchar(120))")
        conn.commit()
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
                "COPY bench_copy (lead_id, type, properties, occurred_at, idempotency_key) "
                "FROM STDIN") as copy:
            for i in range(rows):
                copy.write_row((i % 20000, "page_view", props, now, f"copy-{i}"))
        conn.commit()
        elapsed = time.perf_counter() - t
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL",
                        default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batches", type=int, default=60, help="batches of 1,000 events")
    parser.add_argument("--singles", type=int, default=3000, help="one-event requests")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8, help="threads per server process")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="server processes (default: one per CPU, as in production)")
    parser.add_argument("--rows", type=int, default=100_000, help="CSV rows to import")
    args = parser.parse_args()
    url = setup(args)
    from django.db import connection

    t = time.perf_counter()
    ids, token = generate(args.leads)
    site_key = collect_site()
    print(f"generated {len(ids):,} leads in {time.perf_counter() - t:.1f} s on "
          f"PostgreSQL {connection.cursor().connection.info.server_version}")
    settle()
    connection.close()  # the server and COPY get the database to themselves

    figures: dict[str, object] = {"leads": len(ids), "clients": args.clients,
                                  "server_threads": args.threads,
                                  "server_processes": args.processes, "batch_size": BATCH,
                                  "cpus": os.cpu_count()}
    port = free_port()
    server = start_server(url, port, args.threads, args.processes)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        # Warm-up: imports, connections, caches of every server thread.
        post_all(port, "/api/v1/events",
                 event_batches(ids, args.threads * args.processes, BATCH, "warm"),
                 args.clients, headers, 200, keep_alive=False)
        bodies = event_batches(ids, args.batches, BATCH, "batch")
        cpu, db_cpu = cpu_seconds(server.pid), postgres_cpu_seconds()
        elapsed, accepted = post_all(port, "/api/v1/events", bodies, args.clients, headers,
                                     200, keep_alive=False)
        assert accepted == args.batches * BATCH, accepted
        figures["events_per_s_batched"] = round(accepted / elapsed)
        # The server's own CPU per 1,000 events: steadier than rates when others share
        # the machine (the database's CPU is not in it).
        figures["server_cpu_ms_per_1000"] = round(
            (cpu_seconds(server.pid) - cpu) * 1000 / args.batches, 1)
        if db_cpu is not None:
            figures["db_cpu_ms_per_1000"] = round(
                (postgres_cpu_seconds() - db_cpu) * 1000 / args.batches, 1)  # type: ignore[operator]
        # Replaying the same batches stores nothing new: measured too (duplicates).
        singles = event_batches(ids, args.singles, 1, "single")
        elapsed, accepted = post_all(port, "/api/v1/events", singles, args.clients,
                                     headers, 200)
        figures["events_per_s_single"] = round(accepted / elapsed)
        if site_key:
            figures["collect_events_per_s"] = round(measure_collect(
                port, site_key, min(20_000, args.batches * BATCH), args.clients))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    from leadflow.campaigns.models import Enrollment
    from leadflow.leads.models import Lead
    from leadflow.scoring.models import ScoreEntry
    from leadflow.tracking.models import Event

    figures["check"] = {
        "events": Event.objects.count(), "score_entries": ScoreEntry.objects.count(),
        "mql_leads": Lead.objects.filter(stage="mql").count(),
        "enrollments": Enrollment.objects.count()}

    settle()
    seconds, note = (measure_import(args.rows) if args.rows
                     else (None, "not measured (--rows 0)"))
    figures["import_rows"] = args.rows
    figures["import_100k_s"] = round(seconds, 2) if seconds is not None else None
    figures["import_rows_per_s"] = round(args.rows / seconds) if seconds else None
    figures["import_note"] = note
    connection.close()

    copy_rate = measure_copy(url, max(args.rows, args.batches * BATCH))
    figures["copy_rows_per_s"] = round(copy_rate)
    figures["batched_vs_copy"] = round(figures["events_per_s_batched"] / copy_rate, 3)  # type: ignore[operator]
    if seconds:
        figures["import_vs_copy"] = round(args.rows / seconds / copy_rate, 3)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    eb = figures["events_per_s_batched"]
    print(f"{'events_per_s_batched':24s} {eb:>10,}   target >= {TARGET_EVENTS_PER_S:,} "
          f"({verdict(eb >= TARGET_EVENTS_PER_S)}; {figures['batched_vs_copy']:.1%} of COPY)")  # type: ignore[operator]
    print(f"{'server_cpu_ms_per_1000':24s} {figures['server_cpu_ms_per_1000']:>10}   "
          "(CPU of the server processes per batch of 1,000; PostgreSQL not included)")
    if "db_cpu_ms_per_1000" in figures:
        print(f"{'db_cpu_ms_per_1000':24s} {figures['db_cpu_ms_per_1000']:>10}   "
              "(CPU of PostgreSQL per batch of 1,000)")
    print(f"{'events_per_s_single':24s} {figures['events_per_s_single']:>10,}   "
          f"(one event per request, {args.clients} clients)")
    if "collect_events_per_s" in figures:
        print(f"{'collect_events_per_s':24s} {figures['collect_events_per_s']:>10,}   "
              "(/t/collect, 10 events per beacon)")
    if seconds is not None:
        print(f"{'import_100k_s':24s} {seconds:>10.1f}   target < {TARGET_IMPORT_S} s "
              f"({verdict(seconds < TARGET_IMPORT_S)}; {figures['import_vs_copy']:.1%} of COPY)")
    else:
        print(f"{'import_100k_s':24s} {'n/a':>10}   {note}")
    print(f"{'copy_rows_per_s':24s} {figures['copy_rows_per_s']:>10,}   "
          "(psycopg COPY into a plain table: this machine's insert ceiling)")
    print(f"check: {figures['check']}")

    import psycopg

    connection.close()
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
