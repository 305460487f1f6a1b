"""Likely duplicates: the same E.164 phone, or the same company domain and a similar name.

Exact duplicates never exist as two rows: upsert_lead finds a lead by its trimmed,
lower-cased email (or external id) and updates it. Gmail dots and +tags are NOT folded
into one identity: on other providers they are different mailboxes, and an automatic
merge of two people is worse than a missed one.

Candidates come from SQL grouping (GROUP BY phone / email_domain HAVING COUNT > 1), then
names are compared within each small group only: no pass over all pairs of leads. The
keys (Lead.email_domain, Lead.name_key) are stored on the lead by dedupe_keys().
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from leadflow.accounts.permissions import scoped
from leadflow.core import clock
from leadflow.leads.models import DuplicateSuggestion, Lead
from leadflow.leads.quality import email_domain, is_disposable

# Mail providers anybody can sign up with: a shared domain says nothing about a company.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "yahoo.co.uk", "ymail.com",
    "hotmail.com", "hotmail.fr", "hotmail.co.uk", "outlook.com", "outlook.fr", "live.com",
    "live.fr", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "gmx.com", "gmx.de",
    "gmx.fr", "web.de", "mail.com", "protonmail.com", "proton.me", "pm.me", "yandex.ru",
    "yandex.com", "mail.ru", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net",
    "neuf.fr", "bbox.fr", "rediffmail.com", "qq.com", "163.com", "126.com", "zoho.com",
    "fastmail.com", "tutanota.com", "hey.com",
})
NAME_SIMILARITY = 0.6  # token Jaccard at or above this suggests the same person
MAX_GROUP = 200  # a domain with more leads is compared on exact name keys only


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def fold_name(first: str, last: str) -> str:
    """Accent-folded, lower-cased, sorted name tokens: "Éric  DUPONT" == "dupont eric"."""
    text = f"{first} {last}"
    if not text.isascii():  # most names: nothing to fold (a per-character pass otherwise)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(sorted(_NOT_ALNUM.sub(" ", text.lower()).split()))[:200]


def company_domain(email: str | None) -> str:
    domain = email_domain(email)
    if not domain or domain in FREE_MAIL or is_disposable(email):
        return ""
    return domain[:200]


def dedupe_keys(values: dict[str, Any] | Lead) -> dict[str, str]:
    """{"email_domain", "name_key"} for a lead or a dict of its values (imports set them)."""
    get = (values.get if isinstance(values, dict)
           else lambda name, default="": getattr(values, name, default))
    return {"email_domain": company_domain(get("email") or ""),
            "name_key": fold_name(get("first_name") or "", get("last_name") or "")}


def similarity(a: str, b: str) -> float:
    ta, tb = set(a.split()), set(b.split())
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def _pairs_in(rows: list[tuple[int, str]], exact_only: bool) -> Iterable[tuple[int, int, int]]:
    if exact_only:
        by_key: dict[str, list[int]] = defaultdict(list)
        for lead_id, key in rows:
            if key:
                by_key[key].append(lead_id)
        for ids in by_key.values():
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    yield a, b, 100
        return
    for i, (a, ka) in enumerate(rows):
        for b, kb in rows[i + 1:]:
            score = similarity(ka, kb)
            if score >= NAME_SIMILARITY:
                yield a, b, round(score * 100)


def _candidates(leads) -> dict[tuple[int, int], tuple[str, int]]:
    """{(a, b): (reason, score)} among `leads` (a queryset, already restricted)."""
    found: dict[tuple[int, int], tuple[str, int]] = {}
    live = leads.filter(erased_at__isnull=True)
    phones = (live.filter(phone__startswith="+").values("phone")
              .annotate(n=Count("id")).filter(n__gt=1).values("phone"))
    by_phone: dict[str, list[int]] = defaultdict(list)
    for lead_id, phone in (live.filter(phone__in=phones).order_by("id")
                           .values_list("id", "phone")):
        by_phone[phone].append(lead_id)
    for ids in by_phone.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                found[(a, b)] = (DuplicateSuggestion.Reason.SAME_PHONE, 90)
    domains = (live.exclude(email_domain="").exclude(name_key="").values("email_domain")
               .annotate(n=Count("id")).filter(n__gt=1).values("email_domain"))
    by_domain: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for lead_id, domain, key in (live.filter(email_domain__in=domains).exclude(name_key="")
                                 .order_by("id").values_list("id", "email_domain",
                                                             "name_key")):
        by_domain[domain].append((lead_id, key))
    for rows in by_domain.values():
        for a, b, score in _pairs_in(rows, exact_only=len(rows) > MAX_GROUP):
            found.setdefault((a, b), (DuplicateSuggestion.Reason.SAME_COMPANY_NAME, score))
    return found


def _store(found: dict[tuple[int, int], tuple[str, int]]) -> int:
    """Create the suggestions not yet known (decided pairs stay decided)."""
    if not found:
        return 0
    now = clock.now()
    rows = [DuplicateSuggestion(lead_a_id=a, lead_b_id=b, reason=reason, score=score,
                                created_at=now) for (a, b), (reason, score) in found.items()]
    before = DuplicateSuggestion.objects.count()
    DuplicateSuggestion.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return DuplicateSuggestion.objects.count() - before


@transaction.atomic
def refresh_for(lead_ids: Iterable[int]) -> int:
    """Suggest duplicates of the given leads (called after an upsert). Returns how many
    suggestions are new. A handful of queries, whatever the number of leads."""
    ids = list(lead_ids)
    if not ids:
        return 0
    touched = Lead.objects.filter(pk__in=ids, erased_at__isnull=True)
    phones = touched.filter(phone__startswith="+").values("phone")
    domains = touched.exclude(email_domain="").values("email_domain")
    related = Lead.objects.filter(Q(pk__in=ids) | Q(phone__in=phones)
                                  | Q(email_domain__in=domains))
    wanted = set(ids)
    found = {pair: v for pair, v in _candidates(related).items()
             if pair[0] in wanted or pair[1] in wanted}
    return _store(found)


def backfill_keys(batch: int = 2000) -> int:
    """Compute email_domain/name_key for leads that have none yet (e.g. older rows)."""
    count = 0
    pending = Lead.objects.filter(erased_at__isnull=True, name_key="", email_domain="")
    last = 0
    while True:
        leads = list(pending.filter(pk__gt=last).order_by("pk")
                     .only("id", "email", "first_name", "last_name")[:batch])
        if not leads:
            return count
        changed = []
        for lead in leads:
            keys = dedupe_keys(lead)
            if keys["email_domain"] or keys["name_key"]:
                lead.email_domain, lead.name_key = keys["email_domain"], keys["name_key"]
                changed.append(lead)
        Lead.objects.bulk_update(changed, ["email_domain", "name_key"], batch_size=batch)
        count += len(changed)
        last = leads[-1].pk


def refresh_all() -> int:
    """Recompute the suggestions over all leads (management command / worker job).
    Safe to run twice: known pairs are not duplicated, decided pairs stay decided."""
    backfill_keys()
    with transaction.atomic():
        return _store(_candidates(Lead.objects.all()))


def open_suggestions(user) -> Any:
    """Open suggestions whose two leads `user` may both see."""
    visible = scoped(Lead.objects.all(), user).filter(erased_at__isnull=True).values("pk")
    return (DuplicateSuggestion.objects.filter(status=DuplicateSuggestion.Status.OPEN,
                                               lead_a__in=visible, lead_b__in=visible)
            .select_related("lead_a", "lead_b", "lead_a__owner", "lead_b__owner"))


@transaction.atomic
def dismiss(suggestion: DuplicateSuggestion, *, actor) -> DuplicateSuggestion:
    """Mark a pair as "not duplicates": it will not be suggested again."""
    suggestion.status = DuplicateSuggestion.Status.DISMISSED
    suggestion.decided_at, suggestion.decided_by = clock.now(), actor
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    return suggestion
