"""The benchmarks' data generator: realistic leads, companies, owners and events, fast.

    python benchmarks/datagen.py [--postgres URL] [--database NAME] [--leads 100000]
                                 [--events 1000000] [--companies N] [--days 365]
                                 [--inactive-share 0.5] [--inactive-days 90]
                                 [--owners 20] [--seed 42]

As a command it creates (dropping it first) the database NAME (default
`leadflow_bench_datagen`) on the PostgreSQL server of URL, or a temporary SQLite file
without --postgres, migrates it, fills it and prints the rows written per second. The
database is left in place to look at (drop it yourself).

As a module (the benchmarks' shared fixture), on the database Django is configured with:

    from benchmarks import datagen
    result = datagen.generate(datagen.Spec(leads=1_000_000, events=10_000_000))

A BENCHMARK FIXTURE, NOT A WRITE PATH OF THE APP: it writes the rows directly (COPY on
PostgreSQL, executemany on SQLite), bypassing services, the event pipeline, scoring and
lifecycle. What it writes keeps every table's constraints and the app's invariants, so
the app works on it:
- ids are taken from each table's own sequence (reserved as one range first), so rows
  created afterwards by the app never collide;
- emails unique (lower-case), `email_domain`/`name_key` as leads.dedupe computes them,
  `is_closed` in step with the stage (leads.stages.CLOSED), `stage_changed_at` set;
- `last_touch_at` is the time of the lead's latest event (every generated type is the
  lead's own action), else its creation; `first_touch`/`last_touch` carry the channel,
  source, medium and campaign (UTM);
- a chosen share of leads (`inactive_share`) has had no event for more than
  `inactive_days` days; the others had one within them;
- scores are left at 0 and no ScoreEntry is written (derived state: run the scoring
  engine's re-score), unless `random_scores` (for list benchmarks that only need a sort
  key); no stage history rows (lifecycle.StageChange) and no lead_created events.

Realism: names from pools (emails made unique by a number), 1 in 5 on free mail; companies
with sizes, industries and countries; job titles (about 1 in 6 a "Director"); channels
with matching source/medium/UTM campaign; BANT partly known (more often further down the
funnel); stages spread over the funnel (subscriber ... customer, nurture, disqualified);
owners on every lead from MQL on and on some others. Events per lead are skewed (a few
very active leads, many quiet ones) and spread from the lead's creation to its last
activity: page views (home, product pages, /pricing, blog articles), email opens and
clicks with campaign ids, form submissions, newsletter sign-ups, content downloads with
asset names, and rare demo requests (see EVENT_MIX).

On PostgreSQL, loads of at least datagen_db.INDEX_REBUILD_FROM rows drop the secondary
indexes, COPY, and build them again (the same definitions, read from pg_indexes): one
sorted build is several times faster than 10 million index insertions. The whole load is
one transaction per table, so a failure leaves the indexes as they were.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Re-exported: the benchmarks call them as datagen.<name>.
from benchmarks.datagen_db import (  # noqa: E402
    TIMINGS,
    _copy_escape,
    _copy_lines,
    _insert_many,
    _rebuild,
    analyze,
    copy_ceiling,
    drop_database,
    reserve_range,
    setup_django,
    write_rows,
)
from benchmarks.datagen_pools import (  # noqa: E402
    ASSETS,
    BLOG,
    CITIES,
    CLOSED,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    COUNTRIES,
    EVENT_MIX,
    FIRST_NAMES,
    FREE_MAIL,
    FUNNEL_DEPTH,
    INDUSTRIES,
    LANGUAGES,
    LAST_NAMES,
    SIZES,
    STAGES,
    TITLES,
    TOUCHES,
    event_pool,
)

__all__ = ["ASSETS", "BLOG", "EVENT_MIX", "Result", "Spec", "analyze", "copy_ceiling",
           "drop_database", "generate", "reserve_range", "setup_django", "write_rows"]

DAY = 86_400

@dataclass
class Spec:
    """What to generate. `events` are spread over the leads (none if 0)."""

    leads: int = 100_000
    events: int = 1_000_000
    companies: int | None = None  # default: one per 10 leads (at least 1)
    days: int = 365  # events and creations over the last `days` days
    inactive_share: float = 0.5  # leads with no event in the last `inactive_days` days
    inactive_days: int = 90
    owners: int = 20  # sales reps (0: no owners); in `teams` teams
    teams: int = 2
    seed: int = 42
    now: datetime | None = None  # default: the app's clock (leadflow.core.clock)
    random_scores: bool = False  # a score in -10..120 (list benchmarks' sort key)
    rebuild_indexes: bool | None = None  # default: from INDEX_REBUILD_FROM rows


@dataclass
class Result:
    leads: int = 0
    events: int = 0
    companies: int = 0
    owners: int = 0
    lead_ids: range = range(0)
    owner_ids: list[int] = field(default_factory=list)
    now: datetime | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # per phase

    @property
    def rows(self) -> int:
        return self.leads + self.events + self.companies + self.owners

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.total_seconds if self.total_seconds else 0.0


def generate(spec: Spec) -> Result:
    """Write spec's owners, companies, leads and events on Django's default database; the
    returned Result counts them and times each phase."""
    import gc

    from leadflow.core import clock

    # Millions of short-lived rows: the cyclic collector would keep walking the plan's
    # long lists for nothing (nothing generated here makes a cycle).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(spec, clock.now())
    finally:
        if collecting:
            gc.enable()


def _generate(spec: Spec, clock_now: datetime) -> Result:
    from django.db import transaction

    now = (spec.now or clock_now).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(spec.seed)
    result = Result(now=now)
    t = time.perf_counter()
    result.owner_ids = make_owners(spec.owners, spec.teams)
    result.owners = len(result.owner_ids)
    result.seconds["owners"] = time.perf_counter() - t
    n_companies = spec.companies if spec.companies is not None else max(1, spec.leads // 10)
    t = time.perf_counter()
    with transaction.atomic():
        company_ids = write_companies(n_companies, rng, now, spec.rebuild_indexes)
    result.companies = len(company_ids)
    result.seconds["companies"] = time.perf_counter() - t
    plan = plan_leads(spec, rng, now)
    t = time.perf_counter()
    with transaction.atomic():
        result.lead_ids = write_leads(spec, plan, rng, now, company_ids, result.owner_ids)
    result.leads = len(result.lead_ids)
    result.seconds["leads"] = time.perf_counter() - t
    t = time.perf_counter()
    with transaction.atomic():
        result.events = write_events(spec, plan, rng, result.lead_ids)
    result.seconds["events"] = time.perf_counter() - t
    t = time.perf_counter()
    analyze()
    result.seconds["analyze"] = time.perf_counter() - t
    return result


@dataclass
class Plan:
    """Per lead (by position): creation and last activity (epoch seconds), event count."""

    created: list[int]
    last: list[int]
    n_events: list[int]


def plan_leads(spec: Spec, rng: random.Random, now: datetime) -> Plan:
    """When each lead was created and last active, and how many events it has: skewed
    (Pareto weights), inactive leads quieter; the counts add up to spec.events."""
    end = int(now.timestamp())
    span = max(spec.days, 1) * DAY
    quiet = spec.inactive_days * DAY
    created, last, weights = [], [], []
    for _ in range(spec.leads):
        if rng.random() < spec.inactive_share and span > quiet + DAY:
            at = end - rng.randint(quiet + DAY, span)  # nothing for more than `quiet`
            weight = rng.paretovariate(1.6) * 0.5
        else:
            at = end - rng.randint(0, max(0, min(quiet, span) - DAY))
            weight = rng.paretovariate(1.6)
        last.append(at)
        created.append(at - rng.randint(0, at - (end - span)))
        weights.append(weight)
    n_events = _spread(spec.events, weights, rng)
    for i, n in enumerate(n_events):
        if n == 0:  # no event: its creation is its last activity
            created[i] = last[i]
    return Plan(created, last, n_events)


def _spread(total: int, weights: list[float], rng: random.Random) -> list[int]:
    if not weights:
        return []
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    missing = total - sum(counts)
    if missing > 0:
        cum = list(accumulate(weights))
        for i in rng.choices(range(len(weights)), cum_weights=cum, k=missing):
            counts[i] += 1
    return counts


def make_owners(n: int, teams: int) -> list[int]:
    """`n` sales reps (no password: hashing would dominate) in `teams` teams; reused when
    they exist (usernames bench-rep<i>)."""
    if n <= 0:
        return []
    from leadflow.accounts.models import Role, Team, User

    groups = [Team.objects.get_or_create(name=f"Bench team {t + 1}")[0]
              for t in range(max(1, teams))]
    ids = []
    for i in range(n):
        user, _ = User.objects.get_or_create(
            username=f"bench-rep{i}",
            defaults={"role": Role.SALES_REP, "team": groups[i % len(groups)],
                      "first_name": FIRST_NAMES[i % len(FIRST_NAMES)], "last_name": "Rep",
                      "email": f"bench-rep{i}@leadflow.example"})
        ids.append(user.pk)
    return ids


def write_companies(n: int, rng: random.Random, now: datetime,
                    rebuild: bool | None = None) -> list[tuple[int, str, str, str, int]]:
    """`n` companies; returns (id, name, domain, country, size) per company."""
    from leadflow.leads.models import Company

    countries, country_w = zip(*COUNTRIES, strict=True)
    cum = list(accumulate(w for _, _, w in SIZES))
    rows, out = [], []
    first = reserve_range(Company, n)
    for k in range(n):
        word = COMPANY_WORDS[k % len(COMPANY_WORDS)]
        name = f"{word} {COMPANY_SUFFIXES[(k // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]}"
        name = f"{name} {k // (len(COMPANY_WORDS) * len(COMPANY_SUFFIXES)) + 1}"
        domain = f"{word.lower().replace(' ', '')}{k}.example.com"
        low, high, _w = SIZES[bisect(cum, rng.random() * cum[-1])]
        size = rng.randint(low, high)
        country = rng.choices(countries, country_w)[0]
        rows.append((first + k, name, domain, size, rng.choice(INDUSTRIES), country, now))
        out.append((first + k, name, domain, country, size))
    write_rows(Company, ["id", "name", "domain", "size", "industry", "country", "created_at"],
               rows, rebuild)
    return out


# The leads' columns the generator sets per row (the others get their field's default).
LEAD_COLUMNS = (
    "id", "email", "first_name", "last_name", "phone", "title", "company_id",
    "company_name", "country", "city", "language", "channel", "source", "medium",
    "campaign", "first_touch", "last_touch", "first_touch_at", "last_touch_at", "owner_id",
    "team_id", "assigned_at", "stage", "stage_changed_at", "is_closed", "score", "budget",
    "authority", "need", "timing", "marketing_consent", "email_domain", "name_key",
    "created_at", "updated_at")


def write_leads(spec: Spec, plan: Plan, rng: random.Random, now: datetime,
                companies: Sequence[tuple[int, str, str, str, int]],
                owners: Sequence[int]) -> range:
    """One lead per plan entry, ids from the leads' sequence; returns their ids."""
    from functools import cache

    from django.db import connection

    from leadflow.accounts.models import User
    from leadflow.leads.dedupe import fold_name
    from leadflow.leads.models import Lead

    n = len(plan.created)
    first = reserve_range(Lead, n)
    team_of = dict(User.objects.filter(pk__in=owners).values_list("pk", "team_id"))
    constants = {f.attname: f.get_default() for f in Lead._meta.concrete_fields
                 if f.attname not in LEAD_COLUMNS}  # "" for text, else the default
    stages, stage_w, owner_p = zip(*STAGES, strict=True)
    stage_cum = list(accumulate(stage_w))
    titles, title_w = zip(*TITLES, strict=True)
    title_cum = list(accumulate(title_w))
    touch_cum = list(accumulate(t[4] for t in TOUCHES))
    touch_json = [json.dumps({"channel": c, "source": s, "medium": m, "campaign": k})
                  for c, s, m, k, _w in TOUCHES]
    name_key = cache(fold_name)  # a few thousand name pairs
    stamp = stamper(connection.vendor == "postgresql")
    random_ = rng.random
    randrange = rng.randrange
    n_companies, n_owners = len(companies), len(owners)

    def maybe(known: float, yes: float) -> bool | None:
        return None if random_() >= known else random_() < yes

    def rows() -> Iterator[tuple[Any, ...]]:
        for k in range(n):
            pk = first + k
            company_id, company_name, domain, country, _size = (
                companies[randrange(n_companies)] if n_companies else
                (None, "", "example.com", "", 0))
            fn = FIRST_NAMES[randrange(len(FIRST_NAMES))]
            ln = LAST_NAMES[randrange(len(LAST_NAMES))]
            local = f"{_ascii(fn)}.{_ascii(ln)}.{pk}"  # the id: unique across runs
            free = random_() < 0.2
            email = f"{local}@{FREE_MAIL[k % len(FREE_MAIL)] if free else domain}"
            s = bisect(stage_cum, random_() * stage_cum[-1])
            stage = stages[s]
            t = bisect(touch_cum, random_() * touch_cum[-1])
            channel, source, medium, campaign, _w = TOUCHES[t]
            created = stamp(plan.created[k])
            owner = (owners[randrange(n_owners)]
                     if n_owners and random_() < owner_p[s] else None)
            known = 0.1 + 0.2 * FUNNEL_DEPTH[stage]  # BANT known more often further down
            cities = CITIES.get(country, ("",))
            yield (
                pk, email, fn, ln,
                f"+33 1 {randrange(10**8):08d}" if random_() < 0.4 else "",
                titles[bisect(title_cum, random_() * title_cum[-1])],
                company_id, company_name, country, cities[randrange(len(cities))],
                LANGUAGES.get(country, "en"), channel, source, medium, campaign,
                touch_json[t], touch_json[t], created, stamp(plan.last[k]), owner,
                team_of.get(owner) if owner else None, created if owner else None,
                stage, created, stage in CLOSED,
                randrange(-10, 121) if spec.random_scores else 0,
                maybe(known, 0.6), maybe(known, 0.5), maybe(known, 0.7),
                ("within_12_months" if random_() < 0.6 else "later")
                if random_() < known else "",
                random_() < 0.7, "" if free else domain[:200], name_key(fn, ln),
                created, created)

    write_rows(Lead, LEAD_COLUMNS, rows(), spec.rebuild_indexes, count=n,
               constants=constants, safe=True)
    return range(first, first + n)


def stamper(postgres: bool) -> Callable[[int], str]:
    """Epoch seconds to the database's text for a UTC time, without datetime objects
    (their isoformat was a tenth of an event row's cost)."""
    suffix = "+00" if postgres else ""
    days: dict[int, str] = {}
    clocks = [f"{h:02d}:{m:02d}:{s:02d}{suffix}" for h in range(24) for m in range(60)
              for s in range(60)]

    def stamp(epoch: int) -> str:
        day, second = divmod(epoch, DAY)
        if (text := days.get(day)) is None:
            text = days[day] = _dt(day * DAY).strftime("%Y-%m-%d ")
        return text + clocks[second]

    return stamp


_FOLD = str.maketrans("éèàüöóíáñç'", "eeauooiaanc", " ")


def _ascii(name: str) -> str:
    """Lower-case ASCII without accents or spaces, for email addresses."""
    return name.lower().translate(_FOLD).replace(" ", "")


def _dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def write_events(spec: Spec, plan: Plan, rng: random.Random, lead_ids: range) -> int:
    """plan.n_events events per lead, the last one at the lead's last activity, the others
    between its creation and then; ids from the events' sequence. Returns how many."""
    from django.db import connection

    from leadflow.tracking.models import Event

    total = sum(plan.n_events)
    if not total:
        return 0
    first = reserve_range(Event, total)
    pool, cum = event_pool()
    postgres = connection.vendor == "postgresql"
    stamp = stamper(postgres)

    choose = rng.choices
    random_ = rng.random
    if postgres:
        # Each choice's middle columns (visitor, type, properties, via, actor) as one text.
        middles = [f"\t\t{t}\t{_copy_escape(p)}\t{via}\t\\N\t" for t, p, via in pool]

        def lines() -> Iterator[str]:
            pk = first
            for k, n in enumerate(plan.n_events):
                if not n:
                    continue
                lead = lead_ids[k]
                start, end = plan.created[k], plan.last[k]
                width = end - start + 1
                times = sorted([start + int(random_() * width) for _ in range(n - 1)])
                times.append(end)
                for middle, at in zip(choose(middles, cum_weights=cum, k=n), times,
                                      strict=True):
                    ts = stamp(at)
                    yield f"{pk}\t{lead}{middle}{ts}\t{ts}\t\\N\n"
                    pk += 1

        columns = ["id", "lead_id", "visitor_id", "type", "properties", "via", "actor_id",
                   "occurred_at", "received_at", "idempotency_key"]
        _copy_lines(Event, columns, lines(), _rebuild(spec.rebuild_indexes, total))
    else:
        def tuples() -> Iterator[tuple[Any, ...]]:
            pk = first
            for k, n in enumerate(plan.n_events):
                if not n:
                    continue
                lead = lead_ids[k]
                start, end = plan.created[k], plan.last[k]
                width = end - start + 1
                times = sorted([start + int(random_() * width) for _ in range(n - 1)])
                times.append(end)
                for (type_, props, via), at in zip(
                        choose(pool, cum_weights=cum, k=n), times, strict=True):
                    ts = stamp(at)
                    yield (pk, lead, "", type_, props, via, None, ts, ts, None)
                    pk += 1

        _insert_many(Event, ["id", "lead_id", "visitor_id", "type", "properties", "via",
                             "actor_id", "occurred_at", "received_at", "idempotency_key"],
                     tuples())
    return total


def describe(result: Result) -> str:
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    if TIMINGS:
        phases += "; of which " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items())
        TIMINGS.clear()
    return (f"generated {result.leads:,} leads, {result.events:,} events, "
            f"{result.companies:,} companies, {result.owners} owners in "
            f"{result.total_seconds:.1f} s ({result.rows_per_s:,.0f} rows/s; {phases})")


def add_arguments(parser: argparse.ArgumentParser, *, leads: int, events: int) -> None:
    """The generator's options, shared by the benchmarks' command lines."""
    parser.add_argument("--leads", type=int, default=leads)
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--companies", type=int, default=None,
                        help="default: one per 10 leads")
    parser.add_argument("--days", type=int, default=365, help="time span of the events")
    parser.add_argument("--inactive-share", type=float, default=0.5,
                        help="share of leads with no event in the last --inactive-days")
    parser.add_argument("--inactive-days", type=int, default=90)
    parser.add_argument("--owners", type=int, default=20, help="sales reps (0: none)")
    parser.add_argument("--seed", type=int, default=42)


def spec_from(args: argparse.Namespace, **overrides: Any) -> Spec:
    values = {"leads": args.leads, "events": args.events, "companies": args.companies,
              "days": args.days, "inactive_share": args.inactive_share,
              "inactive_days": args.inactive_days, "owners": args.owners, "seed": args.seed}
    values.update(overrides)
    return Spec(**values)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="e.g. postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="leadflow_bench_datagen")
    add_arguments(parser, leads=100_000, events=1_000_000)
    args = parser.parse_args(argv)
    url = setup_django(args.postgres, args.database)
    result = generate(spec_from(args))
    print(describe(result))
    print(f"database: {url}")
    print(json.dumps({"leads": result.leads, "events": result.events,
                      "companies": result.companies, "owners": result.owners,
                      "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
                      "rows_per_s": round(result.rows_per_s)}))


if __name__ == "__main__":
    main()
