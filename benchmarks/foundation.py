"""Foundation benchmark: the leads list on 100,000 leads, and event ingestion.

    python benchmarks/foundation.py [--leads 100000] [--events 0] [--postgres URL]

Generates its own data (benchmarks/datagen.py) in a throw-away database (a temporary
SQLite file by default; with --postgres, a database `leadflow_bench` created and dropped
on that server), then measures:
- the leads list page (HTML, as an admin and as a rep): first page, a search, a filter;
- the leads API list;
- events stored through the pipeline (scoring included), in batches of 1,000.
Prints each figure, the target it is compared with, and one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # datagen, beside this file
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def setup(args) -> None:
    tmp = tempfile.mkdtemp(prefix="leadflow-bench-")
    os.environ["LEADFLOW_DATA_DIR"] = tmp
    os.environ.setdefault("LEADFLOW_SECRET_KEY", "bench")
    os.environ["LEADFLOW_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["LEADFLOW_TASK_BACKEND"] = "immediate"
    os.environ["LEADFLOW_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    if args.postgres:
        import psycopg

        base = args.postgres.rstrip("/")
        server, _, _ = base.rpartition("/")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS leadflow_bench")
            conn.execute("CREATE DATABASE leadflow_bench")
        os.environ["DATABASE_URL"] = server + "/leadflow_bench"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadflow.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(n: int, events: int):
    """`n` leads (and `events` events) from benchmarks/datagen.py, owned by 20 reps where
    their stage has an owner, with random scores (the list's sort key); the admin and the
    first rep."""
    import datagen

    from leadflow.accounts.models import Role, User
    from leadflow.leads.models import Category
    from leadflow.scoring.models import ScoreRule

    admin = User.objects.create(username="admin", role=Role.ADMIN, is_superuser=True,
                                is_staff=True)
    ScoreRule.objects.create(name="Page view", event_type="page_view", points=1,
                             category=Category.ENGAGEMENT)
    result = datagen.generate(datagen.Spec(leads=n, events=events, owners=20,
                                           random_scores=True))
    return admin, User.objects.get(pk=result.owner_ids[0])


# A last name of datagen's pool: about 2% of the leads (the query before datagen,
# "Last42", matched about 1%).
SEARCH = "Kowalski"


def timed(fn, repeat: int = 7) -> float:
    """Median wall time of `fn` in milliseconds (after one warm-up call)."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=0,
                        help="history to generate first (default none, as before datagen)")
    parser.add_argument("--postgres", metavar="URL",
                        help="e.g. postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    setup(args)
    from django.db import connection
    from django.test import Client

    from leadflow.accounts.services import create_token
    from leadflow.leads.models import Lead
    from leadflow.tracking.services import NewEvent, record_events

    t = time.perf_counter()
    admin, rep = generate(args.leads, args.events)
    print(f"generated {args.leads:,} leads, {args.events:,} events in "
          f"{time.perf_counter() - t:.1f} s "
          f"on {connection.vendor}")

    web = Client()
    web.force_login(admin)
    rep_web = Client()
    rep_web.force_login(rep)
    token = create_token(admin)[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def page(client, query=""):
        def go():
            r = client.get("/leads/" + query)
            assert r.status_code == 200, r.status_code
        return go

    def api_list():
        r = web.get("/api/v1/leads?limit=50", **auth)
        assert r.status_code == 200, r.status_code

    figures = {
        "leads": args.leads,
        "database": connection.vendor,
        "list_page_ms": timed(page(web)),
        "list_page_rep_ms": timed(page(rep_web)),
        "list_search_ms": timed(page(web, f"?q={SEARCH}")),
        "list_filter_stage_ms": timed(page(web, "?stage=mql&sort=-created_at")),
        "api_list_ms": timed(api_list),
    }

    ids = list(Lead.objects.values_list("pk", flat=True)[:1000])
    counter = iter(range(10**9))

    def ingest():
        items = [NewEvent(type="page_view", lead_id=ids[i % len(ids)],
                          properties={"url": "/pricing"},
                          idempotency_key=f"bench-{next(counter)}") for i in range(1000)]
        record_events(items)

    ms = timed(ingest, repeat=5)
    figures["events_per_s_pipeline_batch"] = round(1000 / (ms / 1000))

    target_ms = 200
    for key, value in figures.items():
        if key.endswith("_ms"):
            figures[key] = round(value, 1)
            verdict = "ok" if value <= target_ms else "SLOW"
            print(f"{key:28s} {value:8.1f} ms   (target {target_ms} ms on 100k leads: {verdict})")
    print(f"{'events_per_s_pipeline_batch':28s} {figures['events_per_s_pipeline_batch']:8d}"
          "      (events stored and scored per second, batches of 1,000)")
    print(f"comparison: the foundation issue asks for a leads list fast on 100k leads; we "
          f"hold every page to {target_ms} ms (a person notices a delay from about 100-300 ms)")
    if args.postgres:
        import psycopg

        connection.close()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS leadflow_bench")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
