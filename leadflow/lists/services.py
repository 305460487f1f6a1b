"""Static lists of leads: made, renamed and deleted by their creator (or admins and
marketing), filled and emptied by anyone, for the leads they see.

Scope (accounts.permissions.lead_scope) decides every membership read and write: a rep
adds, removes, sees and counts only their own leads on any list; a lead outside the
actor's scope answers exactly as a lead that does not exist (`not_found`), so neither a
result nor a count tells a rep anything of other reps' leads. Membership writes are
set-based: a few queries per call whatever the number of leads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, lead_scope, may_change_list, scoped
from leadflow.core import clock
from leadflow.core.addresses import is_valid_email
from leadflow.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from leadflow.core.params import valid_id
from leadflow.leads.models import Lead
from leadflow.lists import signals
from leadflow.lists.models import LeadList, ListMember

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# The most leads one call names (an API request, a pasted column): past it, send batches.
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class ItemResult:
    """What became of one lead named in a membership change: `added`, `already` (a
    member before), `removed`, `not_member`, `not_found` (no such lead, or not one the
    actor sees) or `invalid` (not an id nor an address)."""

    value: str
    status: str
    lead_id: int | None = None


@dataclass
class MemberChanges:
    results: list[ItemResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _actor(who: User | Actor | None) -> Actor:
    actor = Actor.of(who)
    if actor.is_public:
        raise Forbidden(_("Lists are changed by people, not by public channels."))
    return actor


def visible_leads(actor: Actor) -> QuerySet[Lead]:
    """The leads `actor` may put on a list or take off: their scope, never an erased one."""
    leads = Lead.objects.filter(erased_at__isnull=True)
    return leads if actor.user is None else scoped(leads, actor.user)


def _through_lead(scope: Q, prefix: str) -> Q:
    """`scope` (a filter on the lead table) as a filter on rows reaching it by `prefix`."""
    out = copy(scope)
    out.children = [_through_lead(c, prefix) if isinstance(c, Q)
                    else (prefix + c[0], c[1])  # type: ignore[index]
                    for c in scope.children]
    return out


def members(user: User, lead_list: LeadList) -> QuerySet[ListMember]:
    """The list's members `user` may see, newest first."""
    rows = ListMember.objects.filter(list=lead_list, lead__erased_at__isnull=True)
    scope = lead_scope(user)
    if scope is not None:
        rows = rows.filter(_through_lead(scope, "lead__"))
    return rows.select_related("lead").order_by("-added_at", "-pk")


def lists_with_counts(user: User) -> QuerySet[LeadList]:
    """Every list, each with `member_count`: the members `user` may see (one query)."""
    counted = Q(members__lead__erased_at__isnull=True)
    scope = lead_scope(user)
    if scope is not None:
        counted &= _through_lead(scope, "members__lead__")
    return LeadList.objects.select_related("created_by").annotate(
        member_count=Count("members", filter=counted))


def get_list(user: User, list_id: int) -> LeadList:
    found = LeadList.objects.filter(pk=list_id).first() if valid_id(list_id) else None
    if found is None:
        raise NotFound(_("No list #%(id)s.") % {"id": list_id})
    return found


def _clean(name: str, description: str) -> tuple[str, str]:
    name = " ".join(str(name or "").split())
    if not name:
        raise InvalidInput(_("Give the list a name."), field="name")
    if len(name) > 120:
        raise InvalidInput(_("A list's name has at most 120 characters."), field="name")
    description = str(description or "").strip()
    if "\x00" in name + description:
        raise InvalidInput(_("Text may not contain NUL characters."), field="description")
    return name, description


def create_list(who: User | Actor | None, *, name: str, description: str = "") -> LeadList:
    """A new, empty list; its name is unique (Conflict otherwise)."""
    actor = _actor(who)
    name, description = _clean(name, description)
    try:
        with transaction.atomic():
            return LeadList.objects.create(name=name, description=description,
                                           created_by=actor.user, created_at=clock.now())
    except IntegrityError:
        raise Conflict(_("A list named %(name)r exists already.") % {"name": name},
                       field="name") from None


def _may_change(actor: Actor, lead_list: LeadList) -> None:
    if actor.user is not None and not may_change_list(actor.user,
                                                      created_by_id=lead_list.created_by_id):
        raise Forbidden(_("Only the list's creator, administrators and marketing may "
                          "rename or delete it."))


def update_list(who: User | Actor | None, lead_list: LeadList, *, name: str | None = None,
                description: str | None = None) -> LeadList:
    """Rename a list or change its description (its creator, admins and marketing)."""
    actor = _actor(who)
    _may_change(actor, lead_list)
    new_name, new_description = _clean(lead_list.name if name is None else name,
                                       lead_list.description if description is None
                                       else description)
    try:
        with transaction.atomic():
            LeadList.objects.filter(pk=lead_list.pk).update(name=new_name,
                                                             description=new_description)
    except IntegrityError:
        raise Conflict(_("A list named %(name)r exists already.") % {"name": new_name},
                       field="name") from None
    lead_list.name, lead_list.description = new_name, new_description
    return lead_list


def delete_list(who: User | Actor | None, lead_list: LeadList) -> None:
    """Delete a list and its memberships (never the leads); refused while a one-off send
    names it."""
    actor = _actor(who)
    _may_change(actor, lead_list)
    try:
        with transaction.atomic():
            lead_list.delete()
    except ProtectedError:
        raise Conflict(_("A one-off send uses this list: it cannot be deleted.")) from None


def parse_pasted(text: str) -> tuple[list[int], list[str], list[str]]:
    """Lead ids and addresses from pasted text or a CSV column (one a line, or separated
    by commas, semicolons or spaces; a first line with neither is a header): (ids,
    addresses, what is neither)."""
    ids: list[int] = []
    emails: list[str] = []
    bad: list[str] = []
    first, _, rest = text.strip().partition("\n")
    if not any(c == "@" or c.isdigit() for c in first):
        text = rest  # a CSV's header line ("email", "id")
    for token in text.replace(",", " ").replace(";", " ").split():
        token = token.strip().strip('"').strip("'")
        if not token:
            continue
        if token.isascii() and token.isdecimal() and len(token) <= 19 \
                and valid_id(int(token)):
            ids.append(int(token))
        elif "@" in token:
            emails.append(token)
        else:
            bad.append(token)
    return ids, emails, bad


def _resolve(actor: Actor, lead_ids: Sequence[int], emails: Sequence[str],
             invalid: Sequence[str]) -> list[ItemResult]:
    """One result per item: the lead it names among those `actor` sees (status ""), or
    `not_found` / `invalid`. Two queries whatever the number of items."""
    if len(lead_ids) + len(emails) + len(invalid) > MAX_ITEMS:
        raise InvalidInput(_("At most %(n)s leads per request: send several batches.")
                           % {"n": f"{MAX_ITEMS:,}"}, field="lead_ids")
    leads = visible_leads(actor)
    ids = [i for i in lead_ids if valid_id(i)]
    known_ids = set(leads.filter(pk__among=ids).values_list("pk", flat=True)) if ids else set()
    wanted = [(e, str(e).strip().lower()) for e in emails]
    valid = sorted({e for _, e in wanted if is_valid_email(e)})
    by_email = dict(leads.filter(email__among=valid).values_list("email", "pk")) if valid \
        else {}
    results = [ItemResult(str(i), "" if i in known_ids else
                          "not_found" if valid_id(i) else "invalid", i if i in known_ids
                          else None) for i in lead_ids]
    for raw, email in wanted:
        if not is_valid_email(email):
            results.append(ItemResult(raw, "invalid"))
        else:
            pk = by_email.get(email)
            results.append(ItemResult(raw, "" if pk else "not_found", pk))
    results += [ItemResult(str(v)[:100], "invalid") for v in invalid]
    return results


def add_members(who: User | Actor | None, lead_list: LeadList, *,
                lead_ids: Sequence[int] = (), emails: Sequence[str] = (),
                invalid: Sequence[str] = ()) -> MemberChanges:
    """Put the leads named by id or address on the list, those `who` sees only; a lead
    already on it stays as it is. One result per item, in order (`invalid` are items the
    caller could not read, reported as such)."""
    actor = _actor(who)
    resolved = _resolve(actor, lead_ids, emails, invalid)
    found = sorted({r.lead_id for r in resolved if r.lead_id is not None})
    with transaction.atomic():
        before = set(ListMember.objects.filter(list=lead_list, lead_id__among=found)
                     .values_list("lead_id", flat=True)) if found else set()
        now = clock.now()
        # ignore_conflicts: a concurrent add of the same lead is not an error.
        ListMember.objects.bulk_create(
            [ListMember(list=lead_list, lead_id=pk, added_at=now)
             for pk in found if pk not in before], ignore_conflicts=True, batch_size=2000)
        if added := [pk for pk in found if pk not in before]:
            signals.members_changed.send(sender=LeadList, list_id=lead_list.pk,
                                         lead_ids=added)
    return MemberChanges(_settled(resolved, lambda pk, seen: "already" if pk in before
                                  or pk in seen else "added"))


def remove_members(who: User | Actor | None, lead_list: LeadList, *,
                   lead_ids: Sequence[int] = (), emails: Sequence[str] = (),
                   invalid: Sequence[str] = ()) -> MemberChanges:
    """Take the leads named (those `who` sees) off the list: `removed`, `not_member`."""
    actor = _actor(who)
    resolved = _resolve(actor, lead_ids, emails, invalid)
    found = sorted({r.lead_id for r in resolved if r.lead_id is not None})
    with transaction.atomic():
        rows = ListMember.objects.filter(list=lead_list, lead_id__among=found) if found \
            else ListMember.objects.none()
        were = set(rows.values_list("lead_id", flat=True))
        rows.delete()
        if were:
            signals.members_changed.send(sender=LeadList, list_id=lead_list.pk,
                                         lead_ids=sorted(were))
    return MemberChanges(_settled(resolved, lambda pk, seen: "removed"
                                  if pk in were and pk not in seen else "not_member"))


def _settled(resolved: list[ItemResult], status_of) -> list[ItemResult]:
    """The resolved items with their final status; a lead named twice counts once (its
    second mention is `already` / `not_member`)."""
    seen: set[int] = set()
    out = []
    for r in resolved:
        if r.lead_id is None:
            out.append(r)
            continue
        out.append(ItemResult(r.value, status_of(r.lead_id, seen), r.lead_id))
        seen.add(r.lead_id)
    return out


def on_list(list_id: int | None, lead_ids: Iterable[int]) -> set[int]:
    """The leads among `lead_ids` that are on the list (none when there is no list)."""
    ids = list(lead_ids)
    if list_id is None or not ids:
        return set()
    return set(ListMember.objects.filter(list_id=list_id, lead_id__among=ids)
               .values_list("lead_id", flat=True))


def on_merging(sender: object, *, keep: Lead, other: Lead,
               **_: object) -> dict[str, list[int]]:
    """leads.signals.merging: a lead is on a list once, so the merged lead's membership
    of a list the kept lead is on already goes (the others move with the merge). The
    lists' ids go in the merge audit, for the undo."""
    both = ListMember.objects.filter(lead=other, list__in=ListMember.objects.filter(
        lead=keep).values("list"))
    lists = sorted(both.values_list("list_id", flat=True))
    both.delete()
    return {"shared_lists": lists}


def on_merge_undone(sender: object, *, audit, restored: Lead, **_: object) -> None:
    """leads.signals.merge_undone: the restored lead is back on the lists it shared."""
    lists = audit.moved.get("shared_lists", [])
    now = clock.now()
    ListMember.objects.bulk_create(
        [ListMember(list_id=pk, lead=restored, added_at=now)
         for pk in LeadList.objects.filter(pk__in=lists).values_list("pk", flat=True)],
        ignore_conflicts=True)
