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

On PostgreSQL, loads of at least INDEX_REBUILD_FROM rows drop the table's secondary
indexes, COPY, and build them again (the same definitions, read from pg_indexes): one
sorted build is several times faster than 10 million index insertions. The whole load is
one transaction per table, so a failure leaves the indexes as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

INDEX_REBUILD_FROM = 20_000
DAY = 86_400
SLICE = 5_000  # rows per COPY write / executemany call

FIRST_NAMES = (
    "Alice", "Bruno", "Camille", "David", "Emma", "Farid", "Gabriel", "Hélène", "Inès",
    "Julien", "Karim", "Léa", "Marc", "Nadia", "Olivier", "Pauline", "Quentin", "Rose",
    "Sophie", "Thomas", "Ulrich", "Valérie", "William", "Xavier", "Yasmine", "Zoé", "Anna",
    "Ben", "Chloé", "Daniel", "Eva", "Felix", "Grace", "Hugo", "Ivan", "Jade", "Kevin",
    "Laura", "Mila", "Noah", "Oscar", "Paul", "Rachel", "Sam", "Tara", "Victor", "Wendy")
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Moreau", "Laurent", "Simon",
    "Michel", "Garcia", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Smith",
    "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Rossi", "Russo", "Ferrari",
    "Fernández", "López", "Martínez", "Janssen", "de Vries", "Peeters", "Nowak", "Kowalski",
    "Silva", "Santos", "Andersen", "Nielsen", "O'Brien", "Murphy", "Kelly", "Roux", "Fournier")
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.fr", "hotmail.com", "orange.fr")
TITLES = (  # (title, weight): about 1 in 6 has "Director" in it
    ("Marketing Director", 5), ("Sales Director", 4), ("IT Director", 3),
    ("Director of Operations", 2), ("Marketing Manager", 12), ("Head of Growth", 4),
    ("CEO", 5), ("CMO", 3), ("VP Marketing", 3), ("Sales Manager", 8),
    ("Account Executive", 6), ("Consultant", 8), ("Developer", 8), ("Analyst", 6),
    ("Office Manager", 4), ("Student", 3), ("", 16))
COMPANY_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark",
                 "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Oscorp", "Pied Piper",
                 "Massive", "Nakatomi", "Gringotts", "Monarch", "Wonka", "Duff")
COMPANY_SUFFIXES = ("SA", "SAS", "GmbH", "Ltd", "Inc", "BV", "Group", "Labs", "Solutions")
INDUSTRIES = ("software", "retail", "banking", "health", "manufacturing", "education",
              "logistics", "energy", "media", "consulting", "public sector", "telecom")
SIZES = ((1, 10, 30), (11, 50, 30), (51, 200, 20), (201, 1000, 12), (1001, 20000, 8))
COUNTRIES = (("FR", 30), ("DE", 12), ("US", 15), ("GB", 10), ("ES", 6), ("BE", 6),
             ("IT", 6), ("NL", 5), ("CA", 4), ("CH", 4), ("", 2))
CITIES = {"FR": ("Paris", "Lyon", "Nantes"), "DE": ("Berlin", "Munich"),
          "US": ("New York", "Austin"), "GB": ("London", "Leeds"), "ES": ("Madrid",),
          "BE": ("Brussels",), "IT": ("Milan",), "NL": ("Amsterdam",), "CA": ("Montréal",),
          "CH": ("Geneva",), "": ("",)}
LANGUAGES = {"FR": "fr", "BE": "fr", "CH": "fr", "CA": "fr"}
# (channel, source, medium, campaign, weight): the first touch, also the last one.
TOUCHES = (
    ("organic_search", "google", "organic", "", 25), ("paid_search", "google", "cpc",
                                                      "brand-2026", 10),
    ("paid_search", "bing", "cpc", "generic-automation", 3),
    ("social", "linkedin", "social", "thought-leadership", 12),
    ("social", "twitter", "social", "", 3), ("email", "newsletter", "email", "monthly", 10),
    ("referral", "partner", "referral", "partner-program", 6),
    ("event", "trade show", "event", "salon-marketing-paris", 6),
    ("web", "", "", "", 15), ("import", "purchased list", "", "", 4),
    ("api", "crm", "", "", 3), ("phone", "", "", "", 3))
# (stage, weight, probability of an owner); stage names as in leads.stages.Stage.
STAGES = (("subscriber", 15, 0.0), ("lead", 45, 0.3), ("mql", 10, 1.0), ("hmql", 3, 1.0),
          ("sal", 3, 1.0), ("sql", 3, 1.0), ("opportunity", 2, 1.0), ("customer", 3, 1.0),
          ("lost", 2, 1.0), ("nurture", 10, 0.5), ("disqualified", 4, 0.5))
CLOSED = frozenset({"customer", "lost", "disqualified"})
FUNNEL_DEPTH = {"subscriber": 0, "lead": 1, "nurture": 1, "disqualified": 1, "mql": 2,
                "hmql": 3, "sal": 3, "sql": 4, "opportunity": 4, "customer": 4, "lost": 4}

BLOG = tuple(f"/blog/{slug}" for slug in (
    "what-is-marketing-automation", "lead-scoring-101", "setting-up-a-marketing-automation-"
    "strategy", "mql-vs-sql", "email-deliverability-checklist", "b2b-funnel-metrics",
    "nurturing-campaigns-that-work", "gdpr-and-b2b-marketing", "crm-vs-marketing-"
    "automation", "how-to-write-a-lead-magnet")) + tuple(
    f"/blog/article-{i}" for i in range(1, 191))
PAGES = ("/", "/features", "/product/scoring", "/product/campaigns", "/product/forms",
         "/customers", "/about", "/docs/getting-started", "/contact", "/integrations")
ASSETS = ("setting-up-a-marketing-automation-strategy.pdf", "what-is-marketing-automation.pdf",
          "lead-scoring-template.xlsx", "b2b-benchmark-2026.pdf", "roi-calculator.xlsx",
          "implementation-guide.pdf", "case-study-retail.pdf", "webinar-replay-scoring.mp4")
FORMS = ("contact", "webinar-registration", "ebook", "trial", "smart-audit", "quote")
CAMPAIGNS = 40  # email campaign ids 1..CAMPAIGNS
# (type, weight in 1/1000, via): the mix of a lead's own events.
EVENT_MIX = (("page_view", 600, "tracking"), ("email_opened", 220, "email"),
             ("email_clicked", 70, "email"), ("form_submitted", 40, "form"),
             ("content_download", 40, "form"), ("newsletter_signup", 28, "form"),
             ("demo_requested", 2, "form"))


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


def _event_pool() -> tuple[list[tuple[str, str, str]], list[float]]:
    """(type, properties as JSON, via) choices and their cumulative weights: the mix of
    EVENT_MIX, the properties of each type spread over realistic values."""
    pool: list[tuple[str, str, str]] = []
    weights: list[float] = []

    def add(type_: str, via: str, weight: float, props: list[dict[str, Any]]) -> None:
        for p in props:
            pool.append((type_, json.dumps(p, ensure_ascii=False), via))
            weights.append(weight / len(props))

    mix = {t: (w, via) for t, w, via in EVENT_MIX}
    w, via = mix["page_view"]
    add("page_view", via, w * 0.08, [{"path": "/pricing", "title": "Pricing"}])
    add("page_view", via, w * 0.50, [{"path": p, "title": p.rsplit("/", 1)[1]} for p in BLOG])
    add("page_view", via, w * 0.30, [{"path": p, "title": p.strip("/") or "home"}
                                     for p in PAGES])
    add("page_view", via, w * 0.12, [{"path": p, "title": p.rsplit("/", 1)[1],
                                      "utm_source": s, "utm_medium": m, "utm_campaign": c}
                                     for p in BLOG[:10] for s, m, c in (
                                         ("linkedin", "social", "thought-leadership"),
                                         ("newsletter", "email", "monthly"),
                                         ("google", "cpc", "brand-2026"))])
    w, via = mix["email_opened"]
    add("email_opened", via, w, [{"campaign_id": c, "email_id": c * 10 + s}
                                 for c in range(1, CAMPAIGNS + 1) for s in range(1, 4)])
    w, via = mix["email_clicked"]
    add("email_clicked", via, w, [{"campaign_id": c, "email_id": c * 10 + 1,
                                   "url": f"https://www.example.com{p}"}
                                  for c in range(1, CAMPAIGNS + 1) for p in BLOG[:5]])
    w, via = mix["form_submitted"]
    add("form_submitted", via, w, [{"form": f} for f in FORMS])
    w, via = mix["content_download"]
    add("content_download", via, w, [{"asset": a, "url": f"https://www.example.com/assets/{a}"}
                                     for a in ASSETS])
    w, via = mix["newsletter_signup"]
    add("newsletter_signup", via, w, [{"form": "newsletter"}])
    w, via = mix["demo_requested"]
    add("demo_requested", via, w, [{"form": "demo"}])
    return pool, list(accumulate(weights))


def write_events(spec: Spec, plan: Plan, rng: random.Random, lead_ids: range) -> int:
    """plan.n_events events per lead, the last one at the lead's last activity, the others
    between its creation and then; ids from the events' sequence. Returns how many."""
    from django.db import connection

    from leadflow.tracking.models import Event

    total = sum(plan.n_events)
    if not total:
        return 0
    first = reserve_range(Event, total)
    pool, cum = _event_pool()
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


# -- writing rows ---------------------------------------------------------------------

def reserve_range(model: Any, n: int) -> int:
    """The first of `n` consecutive new ids of `model`'s table, taken from its sequence
    (PostgreSQL: one setval; SQLite: the AUTOINCREMENT high-water mark), so that rows the
    app creates afterwards get ids after them. For a fixture: the range is consecutive
    only if nobody else inserts into the table meanwhile."""
    from django.db import connection

    if n <= 0:
        return 0
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(s.seq, nextval(s.seq) + %s - 1) FROM (SELECT "
                           "pg_get_serial_sequence(%s, 'id')::regclass AS seq) s",
                           [n, table])
            return cursor.fetchone()[0] - n + 1
        quoted = connection.ops.quote_name(table)
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT "
                       "EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                       [table, table])
        cursor.execute(f"UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT "  # noqa: S608
                       f"COALESCE(MAX(id), 0) FROM {quoted})) + %s WHERE name = %s "
                       "RETURNING seq", [n, table])
        return cursor.fetchone()[0] - n + 1


def write_rows(model: Any, columns: Sequence[str], rows: Any, rebuild: bool | None,
               count: int | None = None, constants: dict[str, Any] | None = None,
               safe: bool = False) -> None:
    """Rows of Python values (None, str, int, bool, datetime, dict/list as JSON) into
    `model`'s table, each followed by the same `constants` (column -> value): COPY on
    PostgreSQL, executemany elsewhere. `safe`: the strings hold no tab, newline or
    backslash (the generator's pools), so COPY needs no escaping."""
    from django.db import connection

    constants = constants or {}
    columns = [*columns, *constants]
    if connection.vendor == "postgresql":
        tail = "".join("\t" + _copy_value(v) for v in constants.values()) + "\n"
        convert = _safe_text if safe else _copy_value

        def lines() -> Iterator[str]:
            for row in rows:
                yield "\t".join(map(convert, row)) + tail

        _copy_lines(model, columns, lines(),
                    _rebuild(rebuild, count if count is not None else len(rows)))
    else:
        extra = tuple(_sqlite_value(v) for v in constants.values())

        def adapted() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                yield tuple(_sqlite_value(v) for v in row) + extra

        _insert_many(model, columns, adapted())


def _safe_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return value if type(value) is str else str(value)


def _rebuild(rebuild: bool | None, rows: int) -> bool:
    return rows >= INDEX_REBUILD_FROM if rebuild is None else rebuild


def _copy_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return _copy_escape(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is datetime:
        return value.isoformat()
    if kind is dict or kind is list:
        return _copy_escape(json.dumps(value, ensure_ascii=False))
    return _copy_escape(str(value))


def _sqlite_value(value: Any) -> Any:
    if type(value) is datetime:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _copy_lines(model: Any, columns: Sequence[str], lines: Iterator[str],
                rebuild: bool) -> None:
    """COPY text lines into the table, its secondary indexes dropped and built again after
    when `rebuild` (the caller's transaction keeps it all-or-nothing)."""
    from django.db import connection

    table = model._meta.db_table
    t = time.perf_counter()
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, table) if rebuild else []
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) "
                                "FROM STDIN") as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == SLICE:
                    copy.write("".join(chunk))
                    chunk = []
            if chunk:
                copy.write("".join(chunk))
        _timed(f"{table} copy", t)
        if indexes:
            # Django's foreign keys are deferred: their checks of the copied rows must run
            # before an index can be built on the table.
            t = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            _timed(f"{table} foreign keys", t)
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            t = time.perf_counter()
            for _name, definition in indexes:
                cursor.execute(definition)
            _timed(f"{table} {len(indexes)} indexes", t)


# Seconds per step of the last loads (COPY, deferred foreign-key checks, index builds),
# to see where a slow load spends its time.
TIMINGS: dict[str, float] = {}


def _timed(step: str, since: float) -> None:
    TIMINGS[step] = TIMINGS.get(step, 0.0) + time.perf_counter() - since


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's indexes that back no constraint (the
    primary key and real constraints stay)."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
        "current_schema() AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint "
        "c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
        "quote_ident(i.indexname))::regclass)", [table])
    return list(cursor.fetchall())


def _insert_many(model: Any, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> None:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (model names)
    with connection.cursor() as cursor:
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == SLICE:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)


def analyze() -> None:
    """Statistics for the planner, as autovacuum would gather them (PostgreSQL)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# -- a throw-away database, for the command and the benchmarks --------------------------

def setup_django(postgres: str | None, database: str, *, task_backend: str = "immediate",
                 drop_first: bool = True) -> str:
    """Point Django at a fresh database (PostgreSQL: `database` on the server of the URL
    `postgres`, dropped first; else a temporary SQLite file), migrate it, and return its
    URL. Call before anything imports the app's models."""
    tmp = tempfile.mkdtemp(prefix="leadflow-bench-")
    if postgres:
        import psycopg

        base = postgres.rstrip("/")
        with psycopg.connect(base, autocommit=True) as conn:
            if drop_first:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
        url = f"{base.rpartition('/')[0]}/{database}"
    else:
        url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.update({
        "LEADFLOW_DATA_DIR": tmp, "DATABASE_URL": url,
        "LEADFLOW_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LEADFLOW_TASK_BACKEND": task_backend,
        "LEADFLOW_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "leadflow.settings"})
    os.environ.setdefault("LEADFLOW_SECRET_KEY", "bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def drop_database(postgres: str, database: str) -> None:
    import psycopg
    from django.db import connection

    connection.close()
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def copy_ceiling(url: str, rows: int) -> float:
    """Rows per second of psycopg COPY of event-shaped rows into a plain table (no index
    but its primary key): what this machine can insert at all, to compare the other
    figures with."""
    import psycopg

    now = datetime.now(UTC)
    props = json.dumps({"path": "/pricing", "title": "A page",
                        "referrer": "https://www.google.com/"})
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
