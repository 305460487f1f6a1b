"""Scoring benchmark (issue 10): full re-score, decay job and incremental batches on
1,000,000 leads and 10,000,000 events, on PostgreSQL.

    python benchmarks/scoring.py [--postgres URL] [--leads 1000000] [--events 10000000]
                                 [--mid-leads 100000] [--batches 5] [--skip-missing]
                                 [--keep] (and datagen's options: --days, --seed, ...)

Creates the database `leadflow_bench_scoring` on the server (dropped at the end unless
--keep), with the scoring rules of PRODUCT.md (the demo's), a rule on blog articles that
matches at least 10% of the events, and an MQL threshold at 15. Then, in one run:
1. baseline: a batch of 1,000 events (page views incl. /pricing and blog articles, email
   opens, newsletter sign-ups, a demo request) stored and scored through
   leadflow.tracking.services.record_events with no event yet and BATCH_LEADS leads;
2. generates (benchmarks/datagen.py) up to --mid-leads leads with their share of the
   events, re-scores them all, and times the same batch: `incremental_batch_ms_100k`;
3. generates the rest, up to --leads and --events, re-scores, times the batch again:
   `incremental_batch_ms_1m`;
4. changes the blog rule's points and times the re-score the rule editor queues on that
   save, over every lead: the rule's entries rewritten in place
   (`rescore(rule_ids=[the rule], in_place=True)`): `rescore_1m_s` and `leads_changed`
   (prints the share of events the rule matches); then changes what the rule matches (at
   most 5 a month instead of 10) and times the rebuild of its entries from the events
   (`rescore(rule_ids=[the rule])`): `rescore_rebuild_1m_s`, `leads_changed_rebuild`. The
   re-scores of steps 2 and 3 rebuild every rule's entries (`rescore_initial_*_s`);
5. gives the primary group an inactivity penalty (90 days, -10; the generator makes half
   the leads inactive for longer) and times `leadflow.scoring.decay.apply_decay()`:
   `decay_1m_s`;
6. measures the machine's COPY ceiling (datagen.copy_ceiling) and gives every figure as a
   ratio to it.
Batch times are the median of --batches runs after one warm-up. Prints each figure with
its target and ends with one JSON object on the last line.

The engine functions (rescore, apply_decay) come with issue 10's engine parts: when one
is missing the script says which and stops before generating anything, or, with
--skip-missing, measures everything else and reports those figures as null.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datagen  # noqa: E402 (the benchmarks' shared generator, beside this file)

DB_NAME = os.environ.get("LEADFLOW_BENCH_DB", "leadflow_bench_scoring")
BATCH = 1000
BATCH_LEADS = 1000  # leads of the baseline ("empty table") batch
TARGET_RESCORE_S = 30
TARGET_DECAY_S = 30
TARGET_BATCH_RATIO = 2.0
BLOG_RULE = "Read a blog article"
ENGINE = {
    "rescore": ("leadflow.scoring.services", "rescore",
                "rescore not available: the scoring engine of issue 10 is not merged"),
    "apply_decay": ("leadflow.scoring.decay", "apply_decay",
                    "apply_decay not available: the decay job of issue 10 is not merged"),
}


def engine() -> tuple[dict[str, Callable[..., Any]], list[str]]:
    """The pinned engine functions that exist, and a message per missing one."""
    found, missing = {}, []
    for key, (module, name, message) in ENGINE.items():
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            missing.append(message)
            continue
        found[key] = fn
    return found, missing


def rules() -> None:
    """PRODUCT.md's rules (as the demo loads them), a blog rule matching about 30% of the
    generated events, and the MQL threshold."""
    from leadflow.leads.models import Category
    from leadflow.leads.stages import Stage
    from leadflow.lifecycle.models import StageThreshold
    from leadflow.scoring.models import ScoreRule
    from leadflow.server.demo import SCORE_RULES

    for name, event_type, conditions, points, category, once in SCORE_RULES:
        ScoreRule.objects.create(name=name, event_type=event_type,
                                 conditions=[{"field": k, "op": "equals", "value": v}
                                             for k, v in conditions.items()],
                                 points=points, category=category,
                                 max_times=1 if once else None)
    ScoreRule.objects.create(name=BLOG_RULE, event_type="page_view",
                             conditions=[{"field": "path", "op": "starts_with",
                                          "value": "/blog/"}],
                             points=1, category=Category.INTEREST, max_times=10, per="month")
    StageThreshold.objects.create(stage=Stage.MQL, min_score=15)


def batch(lead_ids: range | list[int], rng: random.Random) -> list[Any]:
    """1,000 live events of one shape whatever the leads: 60% page views (a tenth on
    /pricing, half on blog articles), 30% email opens, 9% clicks, 1% newsletter sign-ups
    and one demo request, now."""
    from leadflow.tracking.services import NewEvent

    items = []
    for i in range(BATCH):
        lead = lead_ids[rng.randrange(len(lead_ids))]
        if i == 0:
            items.append(NewEvent(type="demo_requested", lead_id=lead,
                                  properties={"form": "demo"}))
        elif i % 100 == 1:
            items.append(NewEvent(type="newsletter_signup", lead_id=lead,
                                  properties={"form": "newsletter"}))
        elif i % 10 < 6:
            path = ("/pricing" if i % 10 == 0 else
                    f"/blog/article-{rng.randint(1, 190)}" if i % 2 else "/features")
            items.append(NewEvent(type="page_view", lead_id=lead, properties={"path": path}))
        elif i % 10 < 9:
            items.append(NewEvent(type="email_opened", lead_id=lead,
                                  properties={"campaign_id": rng.randint(1, 40)}))
        else:
            items.append(NewEvent(type="email_clicked", lead_id=lead,
                                  properties={"campaign_id": rng.randint(1, 40)}))
    return items


def time_batches(lead_ids: range | list[int], repeat: int, seed: int) -> float:
    """Median milliseconds of record_events on a fresh batch, after one warm-up."""
    from leadflow.tracking.services import record_events

    rng = random.Random(seed)
    record_events(batch(lead_ids, rng))
    samples = []
    for _ in range(repeat):
        items = batch(lead_ids, rng)
        t = time.perf_counter()
        record_events(items)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def settle() -> None:
    """VACUUM ANALYZE what was written, as autovacuum would have by then (else it runs
    during the next measure, on the same 2 cores)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def rescore_all(fns: dict[str, Callable[..., Any]], **scope: Any) -> tuple[float | None, Any]:
    if "rescore" not in fns:
        return None, None
    t = time.perf_counter()
    result = fns["rescore"](cause="rescore", **scope)
    return time.perf_counter() - t, result


def blog_share() -> float:
    from leadflow.tracking.models import Event

    total = Event.objects.count()
    blog = Event.objects.filter(type="page_view", properties__path__startswith="/blog/").count()
    return blog / total if total else 0.0


def main() -> None:  # noqa: C901, PLR0915 (one run, in order, as the docstring says)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL",
                        default="postgres://postgres@127.0.0.1:5432/postgres")
    datagen.add_arguments(parser, leads=1_000_000, events=10_000_000)
    parser.add_argument("--mid-leads", type=int, default=100_000,
                        help="size of the first incremental measure")
    parser.add_argument("--batches", type=int, default=5, help="timed batches per size")
    parser.add_argument("--copy-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-missing", action="store_true",
                        help="measure the rest when an engine function is missing")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    url = datagen.setup_django(args.postgres, DB_NAME)
    fns, missing = engine()
    for message in missing:
        print(message, file=sys.stderr)
    if missing and not args.skip_missing:
        datagen.drop_database(args.postgres, DB_NAME)
        raise SystemExit(2)

    from django.db import connection

    from leadflow.core import clock
    from leadflow.leads.models import Lead
    from leadflow.scoring.models import ScoreGroup, ScoreRule

    figures: dict[str, Any] = {"leads": args.leads, "events": args.events,
                               "mid_leads": args.mid_leads, "batch_size": BATCH,
                               "missing": missing}
    rules()
    now = clock.now()
    # 1. The same batch with no history: BATCH_LEADS leads, no event.
    base = datagen.generate(datagen.spec_from(args, leads=BATCH_LEADS, events=0, now=now,
                                              companies=100))
    settle()
    figures["baseline_batch_ms"] = round(time_batches(base.lead_ids, args.batches, 1), 1)
    print(f"baseline: {BATCH_LEADS:,} leads, no history: batch of {BATCH:,} in "
          f"{figures['baseline_batch_ms']} ms")

    # 2. Up to the middle size, with its share of the events; 3. up to the full size.
    events_per_lead = args.events / max(args.leads, 1)
    generated: list[str] = []
    gen_rows, gen_seconds = 0, 0.0
    for label, size in (("100k", args.mid_leads), ("1m", args.leads)):
        have = Lead.objects.count()
        add = max(0, size - have)
        events = (args.events - round(events_per_lead * args.mid_leads) if label == "1m"
                  else round(events_per_lead * size))
        result = datagen.generate(datagen.spec_from(
            args, leads=add, events=max(0, events), now=now, seed=args.seed + size,
            owners=args.owners))
        generated.append(datagen.describe(result))
        gen_rows += result.rows
        gen_seconds += result.total_seconds
        print(generated[-1])
        seconds, outcome = rescore_all(fns)
        if seconds is not None:
            print(f"re-score of every lead at {size:,} leads: {seconds:.1f} s ({outcome})")
            figures[f"rescore_initial_{label}_s"] = round(seconds, 2)
        settle()
        lo, hi = base.lead_ids.stop, result.lead_ids.stop  # generated leads (not baseline)
        ids = range(lo, hi)
        ms = time_batches(ids, args.batches, 2)
        figures[f"incremental_batch_ms_{label}"] = round(ms, 1)
        print(f"at {Lead.objects.count():,} leads: batch of {BATCH:,} in {ms:.1f} ms")
    figures["generated"] = generated
    figures["generate_rows_per_s"] = round(gen_rows / gen_seconds) if gen_seconds else None

    # 4. A rule change matching >= 10% of the events, then the full re-score.
    share = blog_share()
    figures["rule_event_share"] = round(share, 3)
    print(f"the changed rule ({BLOG_RULE}: path starts with /blog/) matches {share:.1%} "
          "of the events")
    rule = ScoreRule.objects.get(name=BLOG_RULE)
    rule.points = 3
    rule.save(update_fields=["points"])
    settle()
    seconds, outcome = rescore_all(fns, rule_ids=[rule.pk], in_place=True)
    figures["rescore_1m_s"] = round(seconds, 2) if seconds is not None else None
    figures["leads_changed"] = getattr(outcome, "leads_changed", None)
    figures["rescore_result"] = str(outcome) if outcome is not None else None
    rule.max_times = 5
    rule.save(update_fields=["max_times"])
    settle()
    seconds, outcome = rescore_all(fns, rule_ids=[rule.pk])
    figures["rescore_rebuild_1m_s"] = round(seconds, 2) if seconds is not None else None
    figures["leads_changed_rebuild"] = getattr(outcome, "leads_changed", None)
    figures["rescore_rebuild_result"] = str(outcome) if outcome is not None else None

    # 5. Decay: half the leads have had no event for more than 90 days.
    group = ScoreGroup.objects.get(is_primary=True)
    group.inactivity_days, group.inactivity_points = datagen.Spec.inactive_days, -10
    group.save(update_fields=["inactivity_days", "inactivity_points"])
    cutoff = now - timedelta(days=group.inactivity_days)
    inactive = Lead.objects.filter(last_touch_at__lt=cutoff).count()
    figures["inactive_leads"] = inactive
    settle()
    if "apply_decay" in fns:
        t = time.perf_counter()
        decayed = fns["apply_decay"]()
        figures["decay_1m_s"] = round(time.perf_counter() - t, 2)
        figures["decay_result"] = decayed
    else:
        figures["decay_1m_s"] = None
    connection.close()

    # 6. The COPY ceiling, in the same run.
    copy_rate = datagen.copy_ceiling(url, args.copy_rows)
    figures["copy_rows_per_s"] = round(copy_rate)
    report(figures, copy_rate, args)
    if not args.keep:
        datagen.drop_database(args.postgres, DB_NAME)
    print(json.dumps(figures))
    if missing:
        print("; ".join(missing), file=sys.stderr)


def report(figures: dict[str, Any], copy_rate: float, args: argparse.Namespace) -> None:
    """Print each figure with its target and its ratio to the COPY ceiling (stored in
    `figures` as *_vs_copy: the figure's rows per second over COPY's)."""
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    base = figures["baseline_batch_ms"]
    print(f"{'baseline_batch_ms':28s} {base:>10}   (the same batch on an empty table)")
    for label in ("100k", "1m"):
        key = f"incremental_batch_ms_{label}"
        ms = figures[key]
        ratio = ms / base if base else float("inf")
        figures[f"{key}_vs_baseline"] = round(ratio, 2)
        rate = BATCH / (ms / 1000)
        figures[f"{key}_vs_copy"] = round(rate / copy_rate, 4)
        print(f"{key:28s} {ms:>10}   target <= {TARGET_BATCH_RATIO:.0f}x baseline "
              f"({ratio:.2f}x: {verdict(ratio <= TARGET_BATCH_RATIO)}; {rate:,.0f} events/s, "
              f"{rate / copy_rate:.1%} of COPY)")
    seconds = figures["rescore_1m_s"]
    if seconds is None:
        print(f"{'rescore_1m_s':28s} {'n/a':>10}   {ENGINE['rescore'][2]}")
    else:
        rate = args.events / seconds
        figures["rescore_vs_copy"] = round(rate / copy_rate, 4)
        print(f"{'rescore_1m_s':28s} {seconds:>10}   target < {TARGET_RESCORE_S} s "
              f"({verdict(seconds < TARGET_RESCORE_S)}; {rate:,.0f} events/s, "
              f"{rate / copy_rate:.1%} of COPY); leads_changed {figures['leads_changed']}")
    seconds = figures["rescore_rebuild_1m_s"]
    if seconds is not None:
        rate = args.events / seconds
        print(f"{'rescore_rebuild_1m_s':28s} {seconds:>10}   target < {TARGET_RESCORE_S} s "
              f"({verdict(seconds < TARGET_RESCORE_S)}; {rate:,.0f} events/s, "
              f"{rate / copy_rate:.1%} of COPY); leads_changed "
              f"{figures['leads_changed_rebuild']}")
    seconds = figures["decay_1m_s"]
    if seconds is None:
        print(f"{'decay_1m_s':28s} {'n/a':>10}   {ENGINE['apply_decay'][2]}")
    else:
        rate = args.leads / seconds
        figures["decay_vs_copy"] = round(rate / copy_rate, 4)
        print(f"{'decay_1m_s':28s} {seconds:>10}   target < {TARGET_DECAY_S} s "
              f"({verdict(seconds < TARGET_DECAY_S)}; {figures['inactive_leads']:,} "
              f"inactive leads; {rate:,.0f} leads/s, {rate / copy_rate:.1%} of COPY)")
    if figures.get("generate_rows_per_s"):
        figures["generate_vs_copy"] = round(figures["generate_rows_per_s"] / copy_rate, 3)
        print(f"{'generate_rows_per_s':28s} {figures['generate_rows_per_s']:>10,}   "
              f"(benchmarks/datagen.py; {figures['generate_vs_copy']:.0%} of COPY)")
    print(f"{'copy_rows_per_s':28s} {figures['copy_rows_per_s']:>10,}   "
          "(psycopg COPY into a plain table: this machine's insert ceiling)")


if __name__ == "__main__":
    main()
