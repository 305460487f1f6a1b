"""Leads: create-or-update (by email or external id), visibility by role, consent."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, scoped
from leadflow.core import clock
from leadflow.core.errors import Conflict, InvalidInput, NotFound, contains_nul
from leadflow.core.params import parse_id, valid_id
from leadflow.leads import quality, signals
from leadflow.leads.bant import bant_value
from leadflow.leads.dedupe import dedupe_keys
from leadflow.leads.models import BANT_FIELDS, Channel, Consent, CustomFieldDefinition, Lead
from leadflow.tracking.models import Event

if TYPE_CHECKING:
    from leadflow.accounts.models import User

# Plain profile fields a caller may set; the rest (owner, stage, score) have services.
PROFILE_FIELDS = ("first_name", "last_name", "phone", "title", "company_name", "country",
                  "city", "language", "channel", "source", "medium", "campaign",
                  "do_not_email", "do_not_call", *BANT_FIELDS)
MAX_CUSTOM_TEXT = 1000
UTM_KEYS = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "campaign"}


def clean_external_id(raw: Any) -> str | None:
    """The trimmed external id, or None when empty. Raises InvalidInput."""
    external_id = str(raw or "").strip() or None
    if external_id and (len(external_id) > 100 or contains_nul(external_id)):
        raise InvalidInput(_("external_id must be at most 100 characters, without NUL."),
                           field="external_id")
    return external_id


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        if name in data and data[name] is not None:
            value = data[name]
            if contains_nul(value):
                raise InvalidInput(_("%(name)s contains a NUL character.")
                                   % {"name": name}, field=name)
            clean[name] = value.strip() if isinstance(value, str) else value
    for utm, name in UTM_KEYS.items():
        if data.get(utm) and not clean.get(name):
            if contains_nul(data[utm]):
                raise InvalidInput(_("%(name)s contains a NUL character.")
                                   % {"name": utm}, field=utm)
            clean[name] = str(data[utm]).strip()
    for name in BANT_FIELDS:
        if name in clean:
            clean[name] = bant_value(name, clean[name])
    if "country" in clean:
        # A code or a name ("France", "Royaume-Uni"); an unknown one is left empty and
        # flagged (see unknown_country()).
        clean["country"] = quality.normalise_country(clean["country"]) or ""
    if "channel" in clean and clean["channel"] not in Channel.values:
        raise InvalidInput(_("channel must be one of %(choices)s.")
                           % {"choices": ", ".join(Channel.values)},
                           field="channel")
    for name, limit in (("first_name", 100), ("last_name", 100), ("phone", 40),
                        ("title", 150), ("company_name", 200), ("city", 100),
                        ("language", 8), ("source", 100), ("medium", 100),
                        ("campaign", 150)):
        if len(str(clean.get(name, ""))) > limit:
            raise InvalidInput(_("%(name)s is longer than %(limit)s characters.")
                               % {"name": name, "limit": limit}, field=name)
    return clean


def _clean_custom(custom: dict[str, Any] | None,
                  defined: dict[str, CustomFieldDefinition] | None = None) -> dict[str, Any]:
    """Check `custom` against the definitions (`defined`, by key: preloaded by callers
    that clean many rows, e.g. leadflow.leads.bulk; else read here)."""
    if not custom:
        return {}
    if not isinstance(custom, dict):
        raise InvalidInput(_("custom must be an object."), field="custom")
    if defined is None:
        # A key holding NUL would fail the query itself (PostgreSQL): it is unknown.
        keys = [key for key in custom if not contains_nul(key)]
        defined = {d.key: d for d in CustomFieldDefinition.objects.filter(key__in=keys)}
    for key, value in custom.items():
        definition = defined.get(key)
        if definition is None:
            raise InvalidInput(_("Unknown custom field %(key)r: declare it first.") % {"key": key},
                               field=f"custom.{key}")
        if value is None:
            continue
        if contains_nul(value):
            raise InvalidInput(_("custom field %(key)r contains a NUL character.") % {"key": key},
                               field=f"custom.{key}")
        if definition.type == CustomFieldDefinition.Type.TEXT and not (
                isinstance(value, str) and len(value) <= MAX_CUSTOM_TEXT):
            raise InvalidInput(_("custom field %(key)r must be a text of at most %(limit)s "
                                 "characters.")
                               % {"key": key, "limit": MAX_CUSTOM_TEXT}, field=f"custom.{key}")
        if definition.type == CustomFieldDefinition.Type.DATE and not _is_iso_date(value):
            raise InvalidInput(_("custom field %(key)r must be a date (YYYY-MM-DD).")
                               % {"key": key},
                               field=f"custom.{key}")
        if definition.type == CustomFieldDefinition.Type.NUMBER and (
                isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInput(_("custom field %(key)r must be a number.")
                               % {"key": key}, field=f"custom.{key}")
        if definition.type == CustomFieldDefinition.Type.BOOLEAN and not isinstance(value, bool):
            raise InvalidInput(_("custom field %(key)r must be true or false.") % {"key": key},
                               field=f"custom.{key}")
        if definition.type == CustomFieldDefinition.Type.CHOICE and value not in (
                definition.choices or []):
            raise InvalidInput(_("custom field %(key)r must be one of %(choices)s.")
                               % {"key": key, "choices": definition.choices},
                               field=f"custom.{key}")
    return custom


def _is_iso_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10


def upsert_lead(data: dict[str, Any], *, via: str = Event.Via.API,
                actor: User | Actor | None = None,
                occurred_at: datetime | None = None,
                route: bool = True) -> tuple[Lead, bool]:
    """Create a lead, or update the one with the same email (else the same external id):
    a batch of one through leads.bulk, whose docstring states the rules (matching, first
    and last touch, channel default, public channels fill only, quality flags, events,
    duplicates, routing). Unlike a bulk row, `data` may carry neither email nor external
    id (a new lead each time), and a `note` that goes with a proposal (below).

    Returns (lead, created). Raises InvalidInput (a bad email; a bad phone is kept as typed
    and an unknown country left empty, both flagged), Conflict when the email and the
    external id name two different leads, and Conflict "This lead is handled by another
    rep." when the lead is outside the actor's scope: then nothing changed, and the
    values submitted were recorded on that lead as a `change_proposed` event (committed:
    callers must not hold a transaction open across this call and roll it back).
    """
    from leadflow.leads.bulk import CONFLICT, CREATED, ERROR, bulk_upsert

    [result] = bulk_upsert([data], via=via, actor=actor, route=route,
                           occurred_at=occurred_at, require_identifier=False)
    if result.status == ERROR:
        raise InvalidInput(result.message, field=result.field)
    if result.status == CONFLICT:
        raise Conflict(result.message, field=result.field)
    assert result.lead is not None
    return result.lead, result.status == CREATED


def fill_empty(lead: Lead, fields: dict[str, Any], custom: dict[str, Any], *,
               touch: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a public channel may write on an existing lead: only its empty fields (an
    anonymous form must not rewrite a known person's name or phone). The touch fields
    (they move the last touch, not the profile) pass only with `touch`, for a lead the
    channel created itself: anyone could otherwise skew a known lead's attribution and
    reset its retention clock."""
    # A BANT "no" is known (False is not empty there); unknown is None or "".
    keep = {name: value for name, value in fields.items()
            if (touch if name in ("channel", "source", "medium", "campaign")
                else getattr(lead, name) in (("", None) if name in BANT_FIELDS
                                             else ("", None, False)))}
    return keep, {k: v for k, v in custom.items() if lead.custom.get(k) in ("", None)}


def _set_derived(lead: Lead, unknown_country: bool) -> None:
    """Quality flags and duplicate keys from the lead's current values."""
    flags = set(quality.lead_quality_flags(lead))
    if unknown_country:
        flags.add(quality.UNKNOWN_COUNTRY)
    if quality.EMAIL_BOUNCED in lead.quality_flags and lead.email:
        flags.add(quality.EMAIL_BOUNCED)  # told by a bounce; edit_lead drops it with the address
    lead.quality_flags = sorted(flags)
    lead.contact_data_incorrect = bool(flags)
    keys = dedupe_keys(lead)
    lead.email_domain, lead.name_key = keys["email_domain"], keys["name_key"]


def refresh_derived(lead: Lead) -> None:
    """Recompute a lead's quality flags and duplicate keys in memory (caller saves);
    an unknown country flagged at capture stays flagged while the country is empty."""
    _set_derived(lead, quality.UNKNOWN_COUNTRY in lead.quality_flags and not lead.country)


def visible_leads(user: User) -> QuerySet[Lead]:
    """The leads `user` may see: all for admins and marketing, the team's for a sales
    manager, their own for a rep. Every list, page, export and API call starts here."""
    return scoped(Lead.objects.all(), user)


def get_visible_lead(user: User, lead_id: int) -> Lead:
    lead = (visible_leads(user).select_related("owner", "team", "company")
            .filter(pk=lead_id, erased_at__isnull=True).first()
            if valid_id(lead_id) else None)
    if lead is None:
        raise NotFound(_("No lead #%(id)s (or you may not see it).") % {"id": lead_id})
    return lead


def _text_search(q: str) -> Q:
    """Leads whose email, first or last name or company contains `q` (any case), or whose
    external id is `q`. PostgreSQL reads the trigram-indexed copy (LeadSearch), one
    subquery a semi-join can use; SQLite scans the columns."""
    if connection.vendor == "postgresql":
        pattern = f"%{connection.ops.prep_for_like_query(q)}%"
        return Q(pk__in=RawSQL(
            "SELECT lead_id FROM leads_leadsearch WHERE text LIKE UPPER(%s) "
            "UNION SELECT id FROM leads_lead WHERE external_id = %s", [pattern, q]))
    return (Q(email__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
            | Q(company_name__icontains=q) | Q(external_id=q))


def search_leads(user: User, *, q: str = "", stage: str = "", owner: str = "",
                 source: str = "", sort: str = "-score",
                 quality: str = "") -> QuerySet[Lead]:
    """Filtered, sorted leads for lists (UI and API). `owner` is a user id or "none";
    `quality` is "problems", "ok" or one flag code. Erased tombstones are left out."""
    leads = visible_leads(user).filter(erased_at__isnull=True)
    for name, value in (("q", q), ("stage", stage), ("owner", owner), ("source", source)):
        if contains_nul(value):
            raise InvalidInput(_("%(name)s contains a NUL character.") % {"name": name}, field=name)
    if q:
        q = q.strip()
        leads = leads.filter(_text_search(q))
    if stage:
        leads = leads.filter(stage=stage)
    if owner == "none":
        leads = leads.filter(owner__isnull=True)
    elif owner:
        leads = leads.filter(owner_id=parse_id(owner, "owner"))
    if source:
        leads = leads.filter(source=source)
    if quality:
        leads = _quality_filter(leads, quality)
    orderings: dict[str, tuple[Any, ...]] = {
        # A work list: closed deals (won, lost, disqualified) come after every open lead,
        # whatever their score; a stage filter or search still finds them.
        "-score": ("is_closed", "-score", "-id"),
        "score": ("score", "id"),
        "-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id"),
        "name": ("last_name", "first_name", "id"),
        "-last_touch_at": ("-last_touch_at", "-id"),
    }
    if sort not in orderings:
        raise InvalidInput(_("sort must be one of %(choices)s.")
                           % {"choices": ", ".join(orderings)}, field="sort")
    return leads.select_related("owner").order_by(*orderings[sort])


def _quality_filter(leads: QuerySet[Lead], value: str) -> QuerySet[Lead]:
    from leadflow.leads.quality import ALL_FLAGS

    if value == "problems":
        return leads.filter(contact_data_incorrect=True)
    if value == "ok":
        return leads.filter(contact_data_incorrect=False)
    if value in ALL_FLAGS:
        # The JSON text holds '"code"': portable where JSON `contains` is not (SQLite).
        return leads.filter(contact_data_incorrect=True,
                            quality_flags__icontains=f'"{value}"')
    raise InvalidInput(_("quality must be problems, ok or one of %(choices)s.")
                       % {"choices": ", ".join(ALL_FLAGS)},
                       field="quality")


@transaction.atomic
def record_consent(lead: Lead, *, granted: bool, method: str, text: str = "",
                   text_version: str = "", ip: str | None = None, page_url: str = "",
                   purpose: str = "marketing_email") -> Consent:
    """Append a consent grant or withdrawal with its proof and update the lead's flags."""
    now = clock.now()
    consent = Consent.objects.create(
        lead=lead, purpose=purpose, text=text, text_version=text_version, method=method,
        ip=ip or None, page_url=page_url[:500], recorded_at=now,
        action=Consent.Action.GRANTED if granted else Consent.Action.WITHDRAWN)
    updates: dict[str, Any] = {"marketing_consent": granted, "updated_at": now}
    # The person's latest explicit choice wins: a withdrawal stops all email to them, a
    # new consent with its proof (a confirmed opt-in) lifts an earlier do-not-email.
    updates["do_not_email"] = not granted
    Lead.objects.filter(pk=lead.pk).update(**updates)
    for k, v in updates.items():
        setattr(lead, k, v)
    # No event of its own (the caller's, if any, comes after): segments re-read the lead.
    signals.fields_changed.send(sender=Lead, lead_ids=[lead.pk])
    return consent


def consent_by(actor: User, lead: Lead, *, granted: bool, text: str = "",
               text_version: str = "", ip: str | None = None, page_url: str = "",
               purpose: str = "marketing_email") -> Consent:
    """A consent given or withdrawn elsewhere (the customer's own sign-up page, a phone
    call), recorded with its proof by someone who may change the lead (NotFound
    otherwise, as for a lead they may not see). `text` is what the person agreed to."""
    from leadflow.accounts.permissions import may_change_lead

    if not may_change_lead(Actor.of(actor), owner_id=lead.owner_id, team_id=lead.team_id) \
            or lead.erased_at is not None:
        raise NotFound(_("No lead #%(id)s (or you may not see it).") % {"id": lead.pk})
    for name, value in (("text", text), ("text_version", text_version),
                        ("page_url", page_url), ("purpose", purpose)):
        if contains_nul(value):
            raise InvalidInput(_("%(field)s must not contain NUL characters.") % {
                "field": name}, field=name)
    if granted and not text.strip():
        raise InvalidInput(_("A consent needs the text the person agreed to (its proof)."),
                           field="text")
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidInput(_("Not an IP address."), field="ip") from None
    with transaction.atomic():
        return record_consent(lead, granted=granted, method="api", text=text[:5000],
                              text_version=text_version[:40], ip=ip, page_url=page_url,
                              purpose=purpose)


def flag_email_bounced(addresses: dict[int, str]) -> list[int]:
    """The address of these leads (lead id -> the address that bounced for good, from
    emails.bounces) is flagged `email_bounced`, with `contact_data_incorrect` and a
    `quality_flags_changed` event, unless the lead has another address by now. Set-based:
    a constant number of queries. Returns the ids newly flagged."""
    from leadflow.tracking.models import EventType
    from leadflow.tracking.services import NewEvent, record_events

    now = clock.now()
    with transaction.atomic():
        leads = list(Lead.objects.select_for_update().filter(
            pk__in=sorted(addresses), erased_at__isnull=True).order_by("pk")
            .only("pk", "email", "quality_flags"))
        changed = [lead for lead in leads if lead.email
                   and lead.email.lower() == addresses[lead.pk].lower()
                   and quality.EMAIL_BOUNCED not in lead.quality_flags]
        for lead in changed:
            lead.quality_flags = sorted({*lead.quality_flags, quality.EMAIL_BOUNCED})
            lead.contact_data_incorrect, lead.updated_at = True, now
        Lead.objects.bulk_update(changed, ["quality_flags", "contact_data_incorrect",
                                           "updated_at"])
        record_events([NewEvent(type=EventType.QUALITY_FLAGS_CHANGED, lead_id=lead.pk,
                                properties={"flags": lead.quality_flags,
                                            "added": [quality.EMAIL_BOUNCED], "removed": []})
                       for lead in changed], via=Event.Via.EMAIL)
    return [lead.pk for lead in changed]


# What a person may change on the lead page or through PATCH /leads/{id}.
EDITABLE_FIELDS = ("first_name", "last_name", "email", "phone", "title", "company_name",
                   "country", "city", *BANT_FIELDS)


def edit_lead(lead: Lead, changes: dict[str, Any], *, actor: User,
              via: str = Event.Via.UI) -> list[str]:
    """Change a lead's profile by hand: EDITABLE_FIELDS and `custom` (by key).
    Preconditions: `actor` may change the lead (accounts.permissions.may_change_lead;
    NotFound otherwise, as for a lead they may not see). Fields absent from `changes` stay
    as they are; None or an empty text clears a field or a custom value. Raises InvalidInput
    (a bad value, naming its field) and Conflict (an email another lead has).

    Recorded as one `lead_updated` event naming the fields with their old and new values
    (erasing the person deletes it with their timeline), plus `quality_flags_changed`
    when the data-quality flags move. Returns the names changed ("custom.<key>" for a
    custom field); nothing is written when nothing changed."""
    from leadflow.accounts.permissions import may_change_lead
    from leadflow.core.addresses import normalise_email
    from leadflow.tracking.models import EventType
    from leadflow.tracking.services import NewEvent, record_events

    if not may_change_lead(Actor.of(actor), owner_id=lead.owner_id, team_id=lead.team_id) \
            or lead.erased_at is not None:
        raise NotFound(_("No lead #%(id)s (or you may not see it).") % {"id": lead.pk})
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"custom"}
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(_("%(name)s cannot be edited here.") % {"name": name}, field=name)
    new: dict[str, Any] = _clean({k: "" if v is None else v for k, v in changes.items()
                                  if k in PROFILE_FIELDS})
    if "country" in changes and changes["country"] and not new.get("country"):
        raise InvalidInput(_("Unknown country: use a two-letter code such as FR."),
                           field="country")
    if "email" in changes:
        raw = str(changes["email"] or "").strip()
        new["email"] = normalise_email(raw) if raw else None
        if new["email"] and Lead.objects.filter(email=new["email"]).exclude(
                pk=lead.pk).exists():
            raise Conflict(_("Another lead already has this email address."), field="email")
    if new.get("phone"):
        new["phone"] = quality.normalise_phone(new["phone"],
                                               new.get("country", lead.country) or None)[0]
    custom_in = changes.get("custom") or {}
    cleared = {k for k, v in custom_in.items() if v in (None, "")} if isinstance(
        custom_in, dict) else set()
    custom = _clean_custom({k: v for k, v in custom_in.items() if k not in cleared}
                           if isinstance(custom_in, dict) else custom_in)
    _clean_custom(dict.fromkeys(cleared))  # a cleared key must still be a declared one

    values: dict[str, list[Any]] = {}
    for name, value in new.items():
        if getattr(lead, name) != value:
            values[name] = [getattr(lead, name), value]
    merged = {**lead.custom, **custom}
    for key in cleared:
        merged.pop(key, None)
    for key in sorted(set(merged) | set(lead.custom)):
        if merged.get(key) != lead.custom.get(key):
            values[f"custom.{key}"] = [lead.custom.get(key), merged.get(key)]
    if not values:
        return []
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        flags_before = list(lead.quality_flags)
        for name in new:
            setattr(lead, name, new[name])
        lead.custom = merged
        lead.updated_at = clock.now()
        if "email" in values:  # a new address has not bounced
            lead.quality_flags = [f for f in lead.quality_flags if f != quality.EMAIL_BOUNCED]
        refresh_derived(lead)
        lead.save(update_fields=[*new, "custom", "updated_at", "quality_flags",
                                 "contact_data_incorrect", "email_domain", "name_key"])
        # A custom field reads by its label on the timeline, as it was when edited.
        labels = dict(CustomFieldDefinition.objects.filter(
            key__in=[n.removeprefix("custom.") for n in values if n.startswith("custom.")])
            .values_list("key", "label"))
        events = [NewEvent(type=EventType.LEAD_UPDATED, lead_id=lead.pk,
                           properties={"changed": list(values), "values": values,
                                       "labels": labels})]
        if lead.quality_flags != flags_before:
            events.append(NewEvent(
                type=EventType.QUALITY_FLAGS_CHANGED, lead_id=lead.pk,
                properties={"flags": lead.quality_flags,
                            "added": sorted(set(lead.quality_flags) - set(flags_before)),
                            "removed": sorted(set(flags_before) - set(lead.quality_flags))}))
        record_events(events, via=via, actor=actor)
        if set(values) & {"email", "phone", "first_name", "last_name"}:
            from leadflow.leads import dedupe

            dedupe.refresh_for([lead.pk])
    return list(values)


# Fields a campaign step (or any bulk path of Leadflow's own) may set on many leads.
SETTABLE_FIELDS = ("title", "company_name", "country", "city", "language", *BANT_FIELDS)


def set_field_many(lead_ids: Sequence[int], name: str, value: Any, *,
                   via: str = Event.Via.SYSTEM, actor: User | None = None) -> list[int]:
    """Set one field (SETTABLE_FIELDS or "custom.<key>") to `value` on many leads, in a
    constant number of queries: one `lead_updated` event per lead that changed (with the
    old and new values). Leads already holding the value, and erased ones, are left as
    they are. Returns the ids changed. Raises InvalidInput for an unknown field or a bad
    value."""
    from leadflow.tracking.models import EventType
    from leadflow.tracking.services import NewEvent, record_events

    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        cleaned = _clean_custom({key: value})
        column, new = "custom", cleaned.get(key)
    elif name in SETTABLE_FIELDS:
        column, new = name, _clean({name: value}).get(name, value)
    else:
        raise InvalidInput(_("%(name)s cannot be set by a campaign.") % {"name": name},
                           field="field")
    with transaction.atomic():
        rows = list(Lead.objects.select_for_update().filter(
            pk__among=sorted(set(lead_ids)), erased_at__isnull=True)
            .values_list("pk", column))
        now = clock.now()
        changed: list[tuple[int, Any]] = []
        if column == "custom":
            updates = []
            for pk, custom in rows:
                if (custom or {}).get(key) != new:
                    changed.append((pk, (custom or {}).get(key)))
                    updates.append(Lead(pk=pk, custom={**(custom or {}), key: new},
                                        updated_at=now))
            Lead.objects.bulk_update(updates, ["custom", "updated_at"], batch_size=1000)
        else:
            changed = [(pk, old) for pk, old in rows if old != new]
            Lead.objects.filter(pk__among=[pk for pk, _ in changed]).update(
                **{column: new, "updated_at": now})
        record_events([NewEvent(type=EventType.LEAD_UPDATED, lead_id=pk,
                                properties={"changed": [name],
                                            "values": {name: [old, new]}})
                       for pk, old in changed], via=via, actor=actor)
    return [pk for pk, _ in changed]
