"""The transition rule editor's services (`StageThreshold` rows, pages and API).

Each write takes the actor and asks `accounts.permissions.may(actor, CHANGE, "stages")`:
admins and marketing, as for the stages themselves. Saving a rule moves no lead by itself:
rules apply to the next events and re-scores (`lifecycle.transitions`). The audit log
records every change with its actor (model signals, leadflow.audit.signals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.accounts.permissions import CHANGE, Actor, may
from leadflow.core.errors import Forbidden, InvalidInput, check_fields
from leadflow.core.params import MAX_ID
from leadflow.lifecycle import stages
from leadflow.lifecycle.models import (
    ContentKind,
    QualificationReason,
    StageThreshold,
    TransitionKind,
)
from leadflow.lifecycle.transitions import DEFAULT_FROM, GRADES
from leadflow.tracking.events import TYPE_NAME

if TYPE_CHECKING:
    from leadflow.accounts.models import User

type Who = User | Actor | None

RULE_FIELDS = ("kind", "stage", "from_stages", "group", "min_score", "min_grade",
               "event_type", "content_kind", "pattern", "active")
# The fields each kind reads (lifecycle.transitions); the others are blanked on save.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    TransitionKind.SCORE: ("group", "min_score"),
    TransitionKind.GRADE: ("min_grade",),
    TransitionKind.BANT: (),
    TransitionKind.CONTENT: ("content_kind", "pattern"),
    TransitionKind.EVENT: ("event_type",),
}
_BLANK: dict[str, Any] = {"group": None, "min_score": None, "min_grade": "", "event_type": "",
                          "content_kind": "", "pattern": ""}
MAX_SCORE = 100_000


def may_edit(user: User) -> bool:
    return may(user, CHANGE, "stages")


def check_may_edit(actor: Who) -> None:
    user = Actor.of(actor).user
    if user is not None and not may_edit(user):
        raise Forbidden(_("Only admins and marketing edit transition rules."))


def _current(rule: StageThreshold | None) -> dict[str, Any]:
    if rule is None:
        return {"kind": TransitionKind.SCORE, "stage": "", "from_stages": [], "active": True,
                **_BLANK}
    return {f: getattr(rule, f if f != "group" else "group_id") for f in RULE_FIELDS}


def _whole(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(_("Enter a whole number."), field=field)
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,19}", text):
        raise InvalidInput(_("Enter a whole number."), field=field)
    number = int(text)
    if not minimum <= number <= maximum:
        raise InvalidInput(_("Enter a number between %(min)s and %(max)s.")
                           % {"min": minimum, "max": maximum}, field=field)
    return number


def _group(value: Any) -> Any:
    from leadflow.scoring.models import ScoreGroup

    if value is None or value == "":
        return None
    if isinstance(value, ScoreGroup):
        return value
    number = _whole(value, "group", minimum=1, maximum=MAX_ID)
    group = ScoreGroup.objects.filter(pk=number).first()
    if group is None:
        raise InvalidInput(_("Choose an existing score group."), field="group")
    return group


def clean_rule(data: Mapping[str, Any], rule: StageThreshold | None = None) -> dict[str, Any]:
    """The rule's values after `data` (only the keys given change `rule`), checked; raises
    InvalidInput naming the field at fault. The fields the kind does not read are blanked."""
    check_fields(data, RULE_FIELDS)
    values = {**_current(rule), **data}
    out: dict[str, Any] = dict(_BLANK)
    definitions = stages.definitions()

    kind = values.get("kind")
    if kind not in TransitionKind.values:
        raise InvalidInput(_("Choose one of: %(choices)s.")
                           % {"choices": ", ".join(TransitionKind.values)}, field="kind")
    out["kind"] = kind

    stage = values.get("stage")
    if not isinstance(stage, str) or stage not in definitions:
        raise InvalidInput(_("Choose the stage the rule moves leads to."), field="stage")
    out["stage"] = stage

    from_stages = values.get("from_stages") or []
    if not isinstance(from_stages, list | tuple) or not all(
            isinstance(s, str) for s in from_stages):
        raise InvalidInput(_("Give a list of stage short names."), field="from_stages")
    unknown_stages = [s for s in from_stages if s not in definitions]
    if unknown_stages:
        raise InvalidInput(_("Unknown stage %(stage)r.") % {"stage": unknown_stages[0]},
                           field="from_stages")
    if stage in from_stages:
        raise InvalidInput(_("A rule cannot move leads out of its own target stage."),
                           field="from_stages")
    out["from_stages"] = list(dict.fromkeys(from_stages))

    if kind == TransitionKind.SCORE:
        out["group"] = _group(values.get("group"))
        score = values.get("min_score")
        if score is None or score == "":
            raise InvalidInput(_("Give the minimum score."), field="min_score")
        out["min_score"] = _whole(score, "min_score", minimum=-MAX_SCORE, maximum=MAX_SCORE)
    elif kind == TransitionKind.GRADE:
        grade = values.get("min_grade")
        grade = grade.strip().upper() if isinstance(grade, str) else grade
        if not isinstance(grade, str) or len(grade) != 1 or grade not in GRADES:
            raise InvalidInput(_("Choose a grade from A to D."), field="min_grade")
        out["min_grade"] = grade
    elif kind == TransitionKind.CONTENT:
        content_kind = values.get("content_kind")
        if content_kind not in ContentKind.values:
            raise InvalidInput(_("Choose the kind of content: a page, a form or a download."),
                               field="content_kind")
        out["content_kind"] = content_kind
        pattern = values.get("pattern")
        pattern = pattern.strip() if isinstance(pattern, str) else ""
        if not pattern:
            raise InvalidInput(_("Give the URL pattern or the form's short name."),
                               field="pattern")
        if len(pattern) > 300:
            raise InvalidInput(_("At most 300 characters."), field="pattern")
        out["pattern"] = pattern
    elif kind == TransitionKind.EVENT:
        event_type = values.get("event_type")
        event_type = event_type.strip() if isinstance(event_type, str) else ""
        if not TYPE_NAME.match(event_type):
            raise InvalidInput(_("Give the event type (lower-case letters, digits and _, "
                                 "such as demo_requested)."), field="event_type")
        out["event_type"] = event_type

    active = values.get("active")
    if not isinstance(active, bool):
        raise InvalidInput(_("active must be true or false."), field="active")
    out["active"] = active
    return out


def save_rule(actor: Who, rule: StageThreshold | None,
              data: Mapping[str, Any]) -> StageThreshold:
    """Create (`rule` None) or change a transition rule from `data` (keys of RULE_FIELDS;
    for a change, only those given). No lead moves now: the rule applies to the next
    events and re-scores."""
    check_may_edit(actor)
    values = clean_rule(data, rule)
    with transaction.atomic():
        target = rule if rule is not None else StageThreshold()
        for key, value in values.items():
            setattr(target, key, value)
        target.save()
    return target


def delete_rule(actor: Who, rule: StageThreshold) -> None:
    """Delete a transition rule; the leads it moved stay where they are."""
    check_may_edit(actor)
    rule.delete()


def ordered(rules: list[StageThreshold]) -> list[StageThreshold]:
    """Rules in funnel order of their target stage, then by kind."""
    definitions = stages.definitions()
    kinds = list(TransitionKind.values)

    def key(rule: StageThreshold) -> tuple[int, int, int, int]:
        d = definitions.get(rule.stage)
        return (d.position if d else 10_000, kinds.index(rule.kind)
                if rule.kind in kinds else len(kinds), rule.min_score or 0, rule.pk or 0)

    return sorted(rules, key=key)


def all_rules() -> list[StageThreshold]:
    return ordered(list(StageThreshold.objects.select_related("group")))


def from_words(rule: StageThreshold) -> str:
    slugs = rule.from_stages if isinstance(rule.from_stages, list) and rule.from_stages \
        else DEFAULT_FROM
    return ", ".join(stages.name(str(s)) for s in slugs)


def summary(rule: StageThreshold) -> str:
    """The rule in plain words, in the reader's language: "Lead → MQL when score ≥ 15
    (primary group)"."""
    moves = {"from": from_words(rule), "to": stages.name(rule.stage)}
    if rule.kind == TransitionKind.SCORE:
        group = rule.group.name if rule.group_id and rule.group else _("primary group")
        return _("%(from)s → %(to)s when score ≥ %(score)s (%(group)s)") % {
            **moves, "score": rule.min_score, "group": group}
    if rule.kind == TransitionKind.GRADE:
        return _("%(from)s → %(to)s when the fit grade is %(grade)s or better") % {
            **moves, "grade": rule.min_grade}
    if rule.kind == TransitionKind.BANT:
        return _("%(from)s → %(to)s when BANT is met") % moves
    if rule.kind == TransitionKind.CONTENT:
        words: dict[str, str] = {ContentKind.PAGE: _("URL"), ContentKind.FORM: _("form"),
                                 ContentKind.DOWNLOAD: _("download")}
        what = words.get(rule.content_kind, rule.content_kind)
        return _("%(from)s → %(to)s on content: %(what)s %(pattern)s") % {
            **moves, "what": what, "pattern": rule.pattern}
    return _("%(from)s → %(to)s on the event %(event)s") % {**moves,
                                                             "event": rule.event_type}


# --- qualification reasons -------------------------------------------------------------

REASON_FIELDS = ("code", "label_en", "label_fr", "needs_note", "active")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def clean_reason(data: Mapping[str, Any],
                 reason: QualificationReason | None = None) -> dict[str, Any]:
    """A qualification reason's values after `data`, checked. Its code is fixed once
    created: reports count the reasons by code."""
    check_fields(data, REASON_FIELDS)
    if reason is not None and "code" in data and data["code"] != reason.code:
        raise InvalidInput(_("A reason's code does not change: reports count by it."),
                           field="code")
    current = ({f: getattr(reason, f) for f in REASON_FIELDS} if reason is not None else
               {"code": "", "label_en": "", "label_fr": "", "needs_note": False,
                "active": True})
    values = {**current, **data}
    out: dict[str, Any] = {}
    code = values.get("code")
    code = code.strip() if isinstance(code, str) else ""
    if reason is None:
        if not _CODE.match(code):
            raise InvalidInput(_("The code may hold lower-case letters, digits, - and _ "
                                 "only (at most 40)."), field="code")
        if QualificationReason.objects.filter(code=code).exists():
            raise InvalidInput(_("Another reason has the code %(code)s.") % {"code": code},
                               field="code")
        out["code"] = code
    for key in ("label_en", "label_fr"):
        label = values.get(key)
        if not isinstance(label, str):
            raise InvalidInput(_("Enter a text."), field=key)
        if len(label.strip()) > 120:
            raise InvalidInput(_("At most 120 characters."), field=key)
        out[key] = label.strip()
    if not out["label_en"]:
        raise InvalidInput(_("Give the reason's label in English."), field="label_en")
    for key in ("needs_note", "active"):
        if not isinstance(values.get(key), bool):
            raise InvalidInput(_("%(field)s must be true or false.") % {"field": key},
                               field=key)
        out[key] = values[key]
    return out


def check_may_edit_reasons(actor: Who) -> None:
    user = Actor.of(actor).user
    if user is not None and not may_edit(user):
        raise Forbidden(_("Only admins and marketing edit the qualification reasons."))


def save_reason(actor: Who, reason: QualificationReason | None,
                data: Mapping[str, Any]) -> QualificationReason:
    """Add a rejection and disqualification reason (`reason` None) or change one (labels,
    note, active: an inactive reason is no longer offered; the past ones keep it)."""
    check_may_edit_reasons(actor)
    values = clean_reason(data, reason)
    with transaction.atomic():
        target = reason if reason is not None else QualificationReason()
        if reason is None:
            last = QualificationReason.objects.order_by("-position").first()
            target.position = (last.position if last else 0) + 10
        for key, value in values.items():
            setattr(target, key, value)
        target.save()
    return target


def all_reasons() -> list[QualificationReason]:
    return list(QualificationReason.objects.all())
