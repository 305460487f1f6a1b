"""The generator's pools (benchmarks/datagen.py): names, companies, titles, channels,
stages and the mix of events, with their weights. No tab, newline or backslash in any
text (leads are copied without escaping)."""

from __future__ import annotations

import json
from itertools import accumulate
from typing import Any

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


def event_pool() -> tuple[list[tuple[str, str, str]], list[float]]:
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
