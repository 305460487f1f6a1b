"""The rule editor's services: score rules and groups changed by a person (pages and API).

Each takes the actor and asks `accounts.permissions.may_edit_scoring`. A change that can
move scores (anything but a name) re-scores every lead: in the background
(`scoring.jobs`), with the editor's explicit choice of whether the stage moves it causes
run hand-offs and campaign entries (`notify`, required then). `preview_*` answer how many
leads a change would move, changing nothing. The audit log records every rule and group
change with its actor (model signals, leadflow.audit.signals).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import Actor, may_edit_scoring
from leadflow.core import clock
from leadflow.core.errors import Forbidden, InvalidInput, check_fields
from leadflow.leads.models import Category
from leadflow.scoring import jobs
from leadflow.scoring.conditions import validate_conditions
from leadflow.scoring.models import Per, RuleKind, ScoreGroup, ScoreRule
from leadflow.scoring.rescore import RescoreResult, preview
from leadflow.tracking.events import TYPE_NAME

RULE_FIELDS = ("group", "name", "kind", "event_type", "conditions", "points", "category",
               "max_times", "per", "valid_from", "valid_until", "active")
GROUP_FIELDS = ("name", "slug", "weight_fit", "weight_engagement", "weight_interest",
                "grade_a_min", "grade_b_min", "grade_c_min", "inactivity_days",
                "inactivity_points", "half_life_days")
# Changing only these never moves a score.
_COSMETIC = frozenset({"name", "slug"})
# Changing only these leaves which events a rule matches: its entries are rewritten in place.
_VALUES = frozenset({"points", "category", "group"}) | _COSMETIC
MAX_POINTS = 100_000

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None


@dataclass
class Saved[T]:
    """What a save changed: the object and the re-score it queued (None: nothing to
    re-score)."""

    obj: T
    job: jobs.RescoreJob | None


def check_may_edit(actor: Who) -> None:
    user = Actor.of(actor).user
    if user is not None and not may_edit_scoring(user):
        raise Forbidden(_("Only administrators and marketers may change scoring rules."))


def _user(actor: Who) -> User | None:
    return Actor.of(actor).user


# --- rules -----------------------------------------------------------------------------

def _int(data: Mapping[str, Any], key: str, *, minimum: int | None = None,
         maximum: int | None = None, required: bool = False) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(_("%(field)s is required.") % {"field": key}, field=key)
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(_("%(field)s must be a whole number.") % {"field": key}, field=key)
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,9}", text):
        raise InvalidInput(_("%(field)s must be a whole number.") % {"field": key}, field=key)
    number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InvalidInput(_("%(field)s must be between %(min)s and %(max)s.")
                           % {"field": key, "min": minimum, "max": maximum}, field=key)
    return number


def _when(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(str(value)) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(_("%(field)s must be a date and time (YYYY-MM-DD HH:MM).")
                           % {"field": key}, field=key)
    if parsed.tzinfo is None:
        from django.utils import timezone

        parsed = timezone.make_aware(parsed)
    return parsed


def clean_rule(data: Mapping[str, Any], rule: ScoreRule | None = None) -> dict[str, Any]:
    """The rule's values after `data` (only the keys given change `rule`), checked; raises
    InvalidInput naming the field at fault."""
    check_fields(data, RULE_FIELDS)
    current = {f: getattr(rule, f if f != "group" else "group_id") for f in RULE_FIELDS} \
        if rule is not None else {"kind": RuleKind.EVENT, "event_type": "", "conditions": [],
                                  "category": Category.ENGAGEMENT, "max_times": None,
                                  "per": Per.EVER, "valid_from": None, "valid_until": None,
                                  "active": True, "group": None}
    values = {**current, **data}
    out: dict[str, Any] = {}

    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(_("Give the rule a name."), field="name")
    out["name"] = name.strip()[:120]

    group_id = values.get("group")
    if isinstance(group_id, ScoreGroup):
        group_id = group_id.pk
    group: ScoreGroup | None
    if group_id in (None, ""):
        group = ScoreGroup.primary()
    else:
        number = _int({"group": group_id}, "group", minimum=1, maximum=2**63 - 1)
        group = ScoreGroup.objects.filter(pk=number).first() if number else None
    if group is None:
        raise InvalidInput(_("Choose an existing score group."), field="group")
    out["group"] = group

    kind = values.get("kind")
    if kind not in RuleKind.values:
        raise InvalidInput(_("kind must be one of %(choices)s.")
                           % {"choices": ", ".join(RuleKind.values)}, field="kind")
    out["kind"] = kind
    event_type = values.get("event_type") or ""
    if kind == RuleKind.EVENT:
        if not isinstance(event_type, str) or not TYPE_NAME.match(event_type):
            raise InvalidInput(_("Choose the event type this rule scores (lower-case "
                                 "letters, digits and _, such as demo_requested)."),
                               field="event_type")
        out["event_type"] = event_type
    else:
        out["event_type"] = ""

    conditions = values.get("conditions")
    if conditions is None:
        conditions = []
    validate_conditions(kind, conditions)
    if kind == RuleKind.ATTRIBUTE and not conditions:
        raise InvalidInput(_("An attribute rule needs at least one condition."),
                           field="conditions")
    out["conditions"] = conditions

    points = _int(values, "points", minimum=-MAX_POINTS, maximum=MAX_POINTS, required=True)
    if not points:
        raise InvalidInput(_("Points must not be 0."), field="points")
    out["points"] = points
    category = values.get("category")
    if category not in Category.values:
        raise InvalidInput(_("dimension must be one of %(choices)s.")
                           % {"choices": ", ".join(Category.values)}, field="category")
    out["category"] = category

    out["max_times"] = _int(values, "max_times", minimum=1, maximum=1_000_000)
    per = values.get("per") or ""
    if per not in Per.values:
        raise InvalidInput(_("per must be one of day, week, month (or empty)."), field="per")
    if per and not out["max_times"]:
        raise InvalidInput(_("Say how many times per %(per)s.") % {"per": per},
                           field="max_times")
    out["per"] = per
    if kind == RuleKind.ATTRIBUTE:  # given once while the lead matches: no frequency
        out["max_times"], out["per"] = None, ""
    out["valid_from"] = _when(values, "valid_from")
    out["valid_until"] = _when(values, "valid_until")
    if out["valid_from"] and out["valid_until"] and out["valid_until"] <= out["valid_from"]:
        raise InvalidInput(_("The end of the validity must come after its start."),
                           field="valid_until")
    active = values.get("active")
    if not isinstance(active, bool):
        raise InvalidInput(_("active must be true or false."), field="active")
    out["active"] = active
    return out


def _rule_moves_scores(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    """Whether saving `after` over `before` (None: a new rule) can change a score."""
    if before is None:
        return bool(after["active"])
    if not before["active"] and not after["active"]:
        return False
    return any(before[k] != after[k] for k in after if k not in _COSMETIC)


def _values_only(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    """Whether saving `after` over `before` changes only what an active rule's entries
    carry (points, category, group), not which events it matches."""
    return (before is not None and before["active"] and after.get("active", True)
            and all(before[k] == after[k] for k in after if k not in _VALUES))


def _snapshot(rule: ScoreRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in RULE_FIELDS}


def _need_notify(notify: bool | None) -> bool:
    if notify is None:
        raise InvalidInput(_("Choose whether stage changes caused by this change should run "
                             "hand-offs and campaign entries."), field="notify")
    return notify


def save_rule(actor: Who, rule: ScoreRule | None, data: Mapping[str, Any], *,
              notify: bool | None = None) -> Saved[ScoreRule]:
    """Create (`rule` None) or change a rule from `data` (keys of RULE_FIELDS; for a
    change, only those given). When the change can move scores, `notify` is required and
    a re-score of every lead is queued with it."""
    check_may_edit(actor)
    values = clean_rule(data, rule)
    before = _snapshot(rule) if rule is not None else None
    rescores = _rule_moves_scores(before, values)
    choice = _need_notify(notify) if rescores else False
    with transaction.atomic():
        target = rule if rule is not None else ScoreRule()
        for key, value in values.items():
            setattr(target, key, value)
        target.updated_at = clock.now()
        target.save()
        job = jobs.queue(reason=(_("Rule “%(name)s” changed") if before else
                                 _("Rule “%(name)s” added")) % {"name": target.name},
                         notify=choice, user=_user(actor), rule_ids=[target.pk],
                         in_place=_values_only(before, values)) if rescores else None
    return Saved(target, job)


def delete_rule(actor: Who, rule: ScoreRule, *,
                notify: bool | None = None) -> jobs.RescoreJob | None:
    """Delete a rule; its points go at the re-score (queued when it was active)."""
    check_may_edit(actor)
    with transaction.atomic():
        choice = _need_notify(notify) if rule.active else False
        name, active, pk = rule.name, rule.active, rule.pk
        rule.delete()
        if not active:
            return None
        return jobs.queue(reason=_("Rule “%(name)s” deleted") % {"name": name},
                          notify=choice, user=_user(actor), rule_ids=[pk])


def set_rule_active(actor: Who, rule: ScoreRule, active: bool, *,
                    notify: bool | None = None) -> Saved[ScoreRule]:
    return save_rule(actor, rule, {"active": active}, notify=notify)


def preview_rule(actor: Who, rule: ScoreRule | None,
                 data: Mapping[str, Any] | None, *,
                 delete: bool = False) -> RescoreResult:
    """How many leads would change score and stage if `data` were saved over `rule` (or
    `rule` deleted); nothing changes."""
    check_may_edit(actor)
    values = clean_rule(data or {}, rule) if not delete else {}

    def apply() -> list[int]:
        if delete and rule is not None:
            ScoreRule.objects.filter(pk=rule.pk).delete()
            return [rule.pk]
        target = ScoreRule.objects.get(pk=rule.pk) if rule is not None else ScoreRule()
        for key, value in values.items():
            setattr(target, key, value)
        target.updated_at = clock.now()
        target.save()
        return [target.pk]

    return _preview(apply)


def _preview(apply: Callable[[], list[int] | None]) -> RescoreResult:
    # The rows apply() writes, their audit entries and the stage moves of the re-score
    # are all rolled back with the preview's savepoint.
    return preview(apply)


# --- groups ----------------------------------------------------------------------------

def group_default(name: str) -> Any:
    field = ScoreGroup._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_default()


def clean_group(data: Mapping[str, Any], group: ScoreGroup | None = None) -> dict[str, Any]:
    check_fields(data, GROUP_FIELDS)
    defaults = {f: group_default(f) for f in GROUP_FIELDS}
    current = {f: getattr(group, f) for f in GROUP_FIELDS} if group is not None else defaults
    values = {**current, **data}
    out: dict[str, Any] = {}
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(_("Give the group a name."), field="name")
    out["name"] = name.strip()[:100]
    slug = values.get("slug") or ""
    if not slug:
        from django.utils.text import slugify

        slug = slugify(out["name"])[:50]
    if not isinstance(slug, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,50}", slug):
        raise InvalidInput(_("The short name may hold letters, digits, - and _ only."),
                           field="slug")
    clash = ScoreGroup.objects.filter(slug=slug)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise InvalidInput(_("Another group has the short name %(slug)s.") % {"slug": slug},
                           field="slug")
    out["slug"] = slug
    for key in ("weight_fit", "weight_engagement", "weight_interest"):
        out[key] = _int(values, key, minimum=0, maximum=100)
    for key in ("grade_a_min", "grade_b_min", "grade_c_min"):
        out[key] = _int(values, key, minimum=-MAX_POINTS, maximum=MAX_POINTS, required=True)
    if not out["grade_a_min"] > out["grade_b_min"] > out["grade_c_min"]:
        raise InvalidInput(_("The grade cut-offs must go down: A above B above C."),
                           field="grade_b_min")
    out["inactivity_days"] = _int(values, "inactivity_days", minimum=1, maximum=3650)
    out["inactivity_points"] = _int(values, "inactivity_points", minimum=-MAX_POINTS,
                                    maximum=MAX_POINTS, required=True)
    out["half_life_days"] = _int(values, "half_life_days", minimum=1, maximum=3650)
    return out


def save_group(actor: Who, group: ScoreGroup | None, data: Mapping[str, Any], *,
               primary: bool = False, notify: bool | None = None) -> Saved[ScoreGroup]:
    """Create or change a score group; `primary` makes it the primary one (its score goes
    on the lead rows, sorts "hottest first" and drives the default thresholds). A change
    of weights, grades or decay, or of the primary group, re-scores every lead (`notify`
    then required); a new group has no rules yet, so it moves no score unless primary."""
    check_may_edit(actor)
    values = clean_group(data, group)
    promote = primary and (group is None or not group.is_primary)
    rescores = promote or (group is not None and any(
        getattr(group, k) != values[k] for k in values if k not in _COSMETIC))
    choice = _need_notify(notify) if rescores else False
    with transaction.atomic():
        target = group if group is not None else ScoreGroup()
        for key, value in values.items():
            setattr(target, key, value)
        if promote:
            for old in ScoreGroup.objects.select_for_update().filter(is_primary=True):
                old.is_primary = False
                old.save()  # one row at a time, so that the audit log sees it
            target.is_primary = True
        target.save()
        if not rescores:
            return Saved(target, None)
        reason = (_("Score group “%(name)s” made primary") if promote else
                  _("Score group “%(name)s” changed")) % {"name": target.name}
        return Saved(target, jobs.queue(reason=reason, notify=choice, user=_user(actor),
                                        cause="group_change"))


def set_primary_group(actor: Who, group: ScoreGroup, *,
                      notify: bool | None = None) -> Saved[ScoreGroup]:
    return save_group(actor, group, {}, primary=True, notify=notify)


def preview_group(actor: Who, group: ScoreGroup | None, data: Mapping[str, Any], *,
                  primary: bool = False) -> RescoreResult:
    """How many leads saving this group would re-score and move; nothing changes."""
    check_may_edit(actor)
    values = clean_group(data, group)

    def apply() -> None:  # a group's settings concern every rule in it
        target = ScoreGroup.objects.get(pk=group.pk) if group is not None else ScoreGroup()
        for key, value in values.items():
            setattr(target, key, value)
        if primary and not target.is_primary:
            ScoreGroup.objects.filter(is_primary=True).update(is_primary=False)
            target.is_primary = True
        target.save()

    return _preview(apply)


def job_for(actor: Who, job_id: int) -> jobs.RescoreJob:
    """A re-score's status, for those who may edit the rules."""
    from leadflow.core.errors import NotFound

    check_may_edit(actor)
    job = jobs.RescoreJob.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("No such re-score."))
    return job
