"""Routing and webhooks benchmark (issue 13), on PostgreSQL, with worker processes.

    python benchmarks/routing.py [--postgres URL] [--database NAME] [--webhooks 10000]
                                 [--workers 2] [--copy-rows 1000000] [--keep]

Creates the database NAME (default `leadflow_bench_routing`; dropped at the end unless
--keep), then measures:
1. `webhooks_per_s`: --webhooks signed deliveries (lead.created payloads of as many
   generated leads, queued in one insert as the pipeline step does) sent by --workers
   worker processes of this script (`--worker`: webhooks.delivery.run_due in a loop, what
   a worker tick does for this work) to a receiver in its own process (`--receiver`:
   http.server, answering 200 after checking each signature with its own code, written
   from the Standard Webhooks spec); timed from the queuing to the last delivery marked
   delivered. Target: at least 500/s with two workers;
2. the machine's COPY ceiling (rows/s), beside it.
The routing figures (`assign_100k_s`, `assign_statements_10k`, `assign_statements_100k`)
belong to the assignment work and print as not measured until it lands.
Prints each figure with its target, the load average (the machine may be shared), and one
JSON object on the last line.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
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

# name -> (target, "at least" or "under", unit)
TARGETS: dict[str, tuple[float, str, str]] = {
    "assign_100k_s": (10, "under", "s"),
    "assign_statements_10k": (0, "report", "statements"),
    "assign_statements_100k": (0, "report", "statements"),
    "webhooks_per_s": (500, "at least", "/s"),
}
STOP = "stop"


def receiver_main(port_file: Path, secret: str) -> None:
    """A receiver in its own process: checks each signature, answers 200 (401 if bad),
    counts both in files beside the port file when asked (GET /count)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key = base64.b64decode(secret.split("_", 1)[1])
    counts = {"ok": 0, "bad": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signed = (f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}."
                      .encode() + body)
            expected = "v1," + base64.b64encode(
                hmac.new(key, signed, hashlib.sha256).digest()).decode()
            good = any(hmac.compare_digest(expected, s)
                       for s in self.headers.get("webhook-signature", "").split(" "))
            with lock:
                counts["ok" if good else "bad"] += 1
            self.send_response(200 if good else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            answer = json.dumps(counts).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # socketserver's 5 drops connections under load

    server = Server(("127.0.0.1", 0), Handler)
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


def worker_loop(stop_file: Path) -> None:
    from leadflow.webhooks.delivery import run_due

    name = f"bench-{os.getpid()}"
    while not stop_file.exists():
        if not run_due(worker=name):
            time.sleep(0.02)


def _counts(port: int) -> dict[str, int]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/count")
    counts = json.loads(conn.getresponse().read())
    conn.close()
    return counts


def measure_webhooks(n: int, workers: int, tmp: Path, url: str) -> dict[str, Any]:
    from leadflow.accounts.models import Role, User
    from leadflow.core import clock
    from leadflow.core.sqlarrays import bulk_insert
    from leadflow.leads.models import Lead
    from leadflow.webhooks import services
    from leadflow.webhooks.models import Delivery

    admin = User.objects.create_user("bench", password="x", role=Role.ADMIN)
    port_file = tmp / "receiver.port"
    stop_file = tmp / STOP
    stop_file.unlink(missing_ok=True)
    sub = services.create_subscription({"name": "bench", "url": "http://127.0.0.1/",
                                        "events": ["lead.created"], "allow_private": True},
                                       actor=admin)
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port_file),
                                 sub.secret])
    procs: list[subprocess.Popen[bytes]] = []
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        port = int(port_file.read_text())
        services.update_subscription(sub, {"url": f"http://127.0.0.1:{port}/hook"},
                                     actor=admin)
        now = clock.now()
        leads = Lead.objects.bulk_create(
            Lead(email=f"bench{i}@example.org", first_name=f"Bench{i}", created_at=now,
                 updated_at=now) for i in range(n))
        env = {**os.environ, "DATABASE_URL": url}
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(stop_file)],
                                  env=env) for _ in range(workers)]
        time.sleep(3)  # the workers start (Django set-up) before the clock runs
        rows = [services.make_delivery(sub.pk, "lead.created",
                                       {"lead": services.lead_data(lead)}, lead.pk, now)
                for lead in leads]
        started = time.monotonic()
        bulk_insert(Delivery, rows, services.INSERTED)
        pending = Delivery.objects.exclude(status=Delivery.Status.DELIVERED)
        while pending.exists():
            if Delivery.objects.filter(status=Delivery.Status.FAILED).exists():
                raise SystemExit("a delivery failed: "
                                 f"{Delivery.objects.filter(status='failed').first().last_error}")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        counts = _counts(port)
    finally:
        stop_file.write_text("")
        for p in procs:
            p.wait(timeout=60)
        receiver.terminate()
        receiver.wait(timeout=10)
    print(f"  {n:,} deliveries in {seconds:.1f} s; the receiver verified {counts['ok']:,} "
          f"signatures ({counts['bad']} bad)", flush=True)
    return {"webhooks": n, "webhooks_per_s": round(n / seconds),
            "webhook_bad_signatures": counts["bad"]}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
        django.setup()
        worker_loop(Path(sys.argv[2]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--receiver":
        receiver_main(Path(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="leadflow_bench_routing")
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copy-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = setup_django(args.postgres, args.database, task_backend="db")
    figures: dict[str, Any] = {}
    try:
        figures = measure_webhooks(args.webhooks, args.workers,
                                   Path(os.environ["LEADFLOW_DATA_DIR"]), url)
        figures["copy_rows_per_s"] = round(copy_ceiling(url, args.copy_rows))
        figures["load_average"] = os.getloadavg()[0]
    finally:
        if not args.keep:
            drop_database(args.postgres, args.database)
    report(figures)


def report(figures: dict[str, Any]) -> None:
    for name, (target, how, unit) in TARGETS.items():
        value = figures.get(name)
        wanted = "" if how == "report" else f" (target {how} {target:g}{unit})"
        if value is None:
            print(f"{name}: not measured{wanted}")
            figures.setdefault(name, None)
            continue
        met = value >= target if how == "at least" else value < target
        verdict = "" if how == "report" else (": MET" if met else ": MISSED")
        print(f"{name}: {value}{unit}{wanted[:-1]}{verdict})" if wanted else f"{name}: {value}")
    copy = figures.get("copy_rows_per_s")
    if copy:
        print(f"machine COPY ceiling: {copy:,} rows/s")
    print(f"load average: {figures.get('load_average')}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
