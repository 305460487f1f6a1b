"""What a template may say about its lead: plain data (dicts, strings, numbers, dates),
never model instances, since a template may call an instance's methods. Built for a whole
batch of messages in a few queries: companies, owners and recent events are read once
for all the batch's leads, and only when a template names them (`Needs`).

The names a template sees (docs/email.md, "Personalisation"):
- `lead`: first_name, last_name, name, email, phone, title, company_name, city, country,
  language, custom (every custom field; also `lead.<key>` when no standard field has it);
- `company`: name, domain, industry, size, country (the lead's company, else its
  company name);
- `owner`: name, first_name, last_name, email, phone;
- `events.<type>`: the lead's latest events of that type, newest first (their properties
  and `occurred_at`), e.g. `events.product_viewed`;
- `purchases` (newest first) and `last_purchase`: the lead's `purchase` events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.template.base import Lexer, TokenType

from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.leads.models import Lead

# The latest events of each type a template may list: enough for "the televisions you
# viewed", bounded whatever the lead's history.
EVENTS_PER_TYPE = 10
LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "title", "company_name", "city",
               "country", "language")
ROOTS = frozenset({"lead", "company", "owner", "events", "purchases", "last_purchase",
                   "unsubscribe_url", "preferences_url"})

_STRINGS = re.compile(r""""[^"]*"|'[^']*'""")
# A name and its lookups; not a filter's name (after "|") nor a lookup (after ".").
_NAME = re.compile(r"(?<![\w.|])([A-Za-z_]\w*)((?:\.\w+)*)")
_KEYWORDS = frozenset({"in", "and", "or", "not", "is", "as", "with", "only", "reversed",
                       "None", "True", "False", "empty", "silent", "on", "off", "by"})


@dataclass(frozen=True)
class Needs:
    """What a template reads beyond the lead itself."""

    company: bool = False
    owner: bool = False
    event_types: frozenset[str] = frozenset()
    # Every top-level name it reads, and those it defines ({% for x in %}, {% with %}).
    names: frozenset[str] = frozenset()
    defined: frozenset[str] = frozenset()
    # "lead.first_name", "owner.email": each name with its first lookup.
    lookups: frozenset[str] = frozenset()

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.company or other.company, self.owner or other.owner,
                     self.event_types | other.event_types, self.names | other.names,
                     self.defined | other.defined, self.lookups | other.lookups)


def needs_of(*sources: str) -> Needs:
    """The names read by template `sources` (their {{ }} and {% %} only, strings left out:
    "Your company" in a sentence reads no company)."""
    names: set[str] = set()
    defined: set[str] = set()
    lookups: set[str] = set()
    types: set[str] = set()
    for source in sources:
        for token in Lexer(source).tokenize():
            if token.token_type not in (TokenType.VAR, TokenType.BLOCK):
                continue
            words = _STRINGS.sub(" ", token.contents)
            tag = words.split()[0] if token.token_type == TokenType.BLOCK and words else ""
            if tag:
                words = words[len(tag):]
            if tag == "for":
                targets = words.split(" in ", 1)[0]
                defined.update(t.strip() for t in targets.split(",") if t.strip())
                words = words.split(" in ", 1)[1] if " in " in words else ""
            elif tag == "with":
                defined.update(re.findall(r"(\w+)\s*=", words))
            if " as " in words and (named := words.rsplit(" as ", 1)[1].split()):
                defined.add(named[0])
            for root, path in _NAME.findall(words):
                if root in _KEYWORDS or root[0].isdigit():
                    continue
                names.add(root)
                if path:
                    lookups.add(f"{root}.{path.split('.')[1]}")
                if root == "events" and path:
                    types.add(path.split(".")[1])
    if names & {"purchases", "last_purchase"}:
        types.add(EventType.PURCHASE)
    return Needs(company="company" in names, owner="owner" in names,
                 event_types=frozenset(types), names=frozenset(names),
                 defined=frozenset(defined | {"forloop", "block"}),
                 lookups=frozenset(lookups))


def lead_data(lead: Lead) -> dict[str, Any]:
    custom = dict(lead.custom) if isinstance(lead.custom, dict) else {}
    data: dict[str, Any] = {key: value for key, value in custom.items()
                            if isinstance(key, str)}
    data.update({name: getattr(lead, name) or "" for name in LEAD_FIELDS})
    data["id"] = lead.pk
    data["name"] = f"{lead.first_name} {lead.last_name}".strip()
    data["custom"] = custom
    return data


@dataclass
class BatchData:
    """What a batch's templates read about its leads, by lead id."""

    companies: dict[int, dict[str, Any]]
    owners: dict[int, dict[str, Any]]
    events: dict[int, dict[str, list[dict[str, Any]]]]

    def values(self, lead: Lead, needs: Needs) -> dict[str, Any]:
        """The template's names for `lead` (those it reads, each with a safe empty value)."""
        values: dict[str, Any] = {"lead": lead_data(lead)}
        if needs.company:
            values["company"] = (self.companies.get(lead.company_id or 0)
                                 or ({"name": lead.company_name} if lead.company_name else {}))
        if needs.owner:
            values["owner"] = self.owners.get(lead.owner_id or 0, {})
        if needs.event_types:
            mine = self.events.get(lead.pk, {})
            values["events"] = {t: mine.get(t, []) for t in needs.event_types}
            purchases = mine.get(EventType.PURCHASE, [])
            values["purchases"] = purchases
            values["last_purchase"] = purchases[0] if purchases else {}
        return values


def load(leads: list[Lead], needs: Needs) -> BatchData:
    """Companies, owners and recent events of `leads`: one query each, only when needed."""
    from leadflow.accounts.models import User
    from leadflow.leads.models import Company

    companies: dict[int, dict[str, Any]] = {}
    owners: dict[int, dict[str, Any]] = {}
    events: dict[int, dict[str, list[dict[str, Any]]]] = {}
    company_ids = {lead.company_id for lead in leads if lead.company_id}
    if needs.company and company_ids:
        for company in Company.objects.filter(pk__in=company_ids):
            companies[company.pk] = {"name": company.name, "domain": company.domain,
                                     "industry": company.industry,
                                     "size": company.size or "", "country": company.country}
    owner_ids = {lead.owner_id for lead in leads if lead.owner_id}
    if needs.owner and owner_ids:
        for user in User.objects.filter(pk__in=owner_ids):
            owners[user.pk] = {"name": user.get_full_name() or user.username,
                               "first_name": user.first_name, "last_name": user.last_name,
                               "email": user.email, "phone": getattr(user, "phone", "")}
    lead_ids = [lead.pk for lead in leads if lead.pk]
    if needs.event_types and lead_ids:
        latest = (Event.objects.filter(lead_id__in=lead_ids, type__in=needs.event_types)
                  .annotate(rank=Window(RowNumber(), partition_by=[F("lead_id"), F("type")],
                                        order_by=[F("occurred_at").desc(), F("id").desc()]))
                  .filter(rank__lte=EVENTS_PER_TYPE)
                  .order_by("lead_id", "type", "rank")
                  .values_list("lead_id", "type", "properties", "occurred_at"))
        for lead_id, type_, properties, occurred_at in latest:
            item = dict(properties) if isinstance(properties, dict) else {}
            item["occurred_at"] = occurred_at
            events.setdefault(lead_id, {}).setdefault(type_, []).append(item)
    return BatchData(companies, owners, events)
