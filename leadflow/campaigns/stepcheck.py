"""The check of one step as the builder or the API sends it (campaigns.editor.save_graph):
its kind, its columns and its kind's settings, cleaned, or InvalidInput naming the field
(`steps.3.config.within_seconds`: the index in the list sent, then the key).

Rows a step names (a template, a list, a campaign, a rep, a segment) are read in a few
queries for the whole graph (`References`), not one per step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from leadflow.campaigns import decisions
from leadflow.campaigns.models import Step
from leadflow.campaigns.steps import kind_of
from leadflow.core.errors import InvalidInput, contains_nul
from leadflow.core.params import valid_id

S = Step.Kind
MAX_POSITION = 1_000_000
MAX_SECONDS = 3660 * 86400  # the longest wait (campaigns.waits.MAX_DELAY_DAYS)
MAX_POINTS = 100_000
MAX_COORD = 100_000
STEP_KEYS = ("position", "kind", "label", "config", "template_id", "wait_seconds", "points",
             "count_machines", "next", "no", "x", "y")
# The settings each built-in kind takes; a kind other apps register takes any object.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    S.SEND_EMAIL: (), S.WAIT: ("wait",), S.ADD_POINTS: ("category",),
    S.SET_FIELD: ("field", "value"), S.CHANGE_STAGE: ("stage",),
    S.NOTIFY_OWNER: ("message",), S.ASSIGN: ("user_id",),
    S.ADD_TO_SEGMENT: ("segment_id",), S.REMOVE_FROM_SEGMENT: ("segment_id",),
    S.ADD_TO_LIST: ("list_id",), S.REMOVE_FROM_LIST: ("list_id",),
    S.START_CAMPAIGN: ("campaign_id",), S.EXIT: (),
    S.CONDITION: ("filter",), S.SPLIT: ("percent",),
    **{k: ("within_seconds", "where") for k in decisions.WAKES_ON},
}
CONFIG_KEYS[S.IF_CLICKED_LINK] += ("url",)
CONFIG_KEYS[S.IF_VISITED] += ("url_contains",)
CONFIG_KEYS[S.IF_SUBMITTED] += ("form",)
CONFIG_KEYS[S.IF_EVENT] += ("event_type",)
# Settings naming a row, by the kind of row.
ROW_KEYS = {"segment_id": "segment", "list_id": "list", "campaign_id": "campaign",
            "user_id": "user"}


@dataclass
class References:
    """Ids of rows the steps name, by kind (template, segment, list, campaign, user),
    and the ones that exist (filled by `resolve`)."""

    wanted: dict[str, set[int]] = field(default_factory=dict)
    found: dict[str, set[int]] = field(default_factory=dict)

    def want(self, kind: str, pk: int) -> None:
        self.wanted.setdefault(kind, set()).add(pk)

    def resolve(self) -> None:
        from django.apps import apps

        models = {"template": "emails.EmailTemplate", "list": "lists.LeadList",
                  "campaign": "campaigns.Campaign", "user": "accounts.User",
                  "segment": "segments.Segment"}
        for kind, ids in self.wanted.items():
            try:
                model = apps.get_model(models[kind])
            except LookupError:  # the segments app is not installed here
                self.found[kind] = set()
                continue
            rows = model._default_manager.filter(pk__in=sorted(ids))
            if kind == "user":
                rows = rows.filter(is_active=True)
            self.found[kind] = set(rows.values_list("pk", flat=True))

    def exists(self, kind: str, pk: int) -> bool:
        return pk in self.found.get(kind, set())


def family(kind: str) -> str:
    found = kind_of(kind)
    return found.family if found else ""


def _fail(message: str, at: str) -> InvalidInput:
    return InvalidInput(message, field=at)


def integer(value: Any, at: str, *, low: int, high: int, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise _fail(_("%(field)s is required.") % {"field": at}, at)
        return None
    digits = value.strip().removeprefix("-") if isinstance(value, str) else ""
    if digits.isascii() and digits.isdecimal() and len(digits) < 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(_("%(field)s must be a whole number from %(low)s to %(high)s.")
                    % {"field": at, "low": low, "high": high}, at)
    return value


def _text(value: Any, at: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise _fail(_("%(field)s must be a text of at most %(n)d characters.")
                    % {"field": at, "n": limit}, at)
    if required and not value.strip():
        raise _fail(_("%(field)s is required.") % {"field": at}, at)
    return value.strip()


def clean_step(raw: Any, index: int, refs: References) -> dict[str, Any]:
    """One step, cleaned (links still as positions: `next`, `no`). Rows it names are
    noted in `refs`, checked later by `check_references`."""
    at = f"steps.{index}"
    if not isinstance(raw, Mapping):
        raise _fail(_("Each step must be an object."), at)
    unknown = sorted(set(raw) - set(STEP_KEYS))
    if unknown:
        raise _fail(_("Unknown field: %(field)s.") % {"field": unknown[0]},
                    f"{at}.{unknown[0]}")
    position = integer(raw.get("position"), f"{at}.position", low=1, high=MAX_POSITION)
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind_of(kind) is None:
        raise _fail(_("Unknown kind of step: %(kind)s.") % {"kind": str(kind)[:40]},
                    f"{at}.kind")
    step: dict[str, Any] = {
        "position": position, "kind": kind,
        "label": _text(raw.get("label"), f"{at}.label", 120),
        "template_id": None, "wait_seconds": 0, "points": 0,
        "count_machines": bool(raw.get("count_machines") or False),
        "x": integer(raw.get("x"), f"{at}.x", low=-MAX_COORD, high=MAX_COORD, required=False),
        "y": integer(raw.get("y"), f"{at}.y", low=-MAX_COORD, high=MAX_COORD, required=False),
    }
    if not isinstance(raw.get("count_machines", False), bool):
        raise _fail(_("%(field)s must be true or false.") % {"field": f"{at}.count_machines"},
                    f"{at}.count_machines")
    for link in ("next", "no"):
        step[link] = integer(raw.get(link), f"{at}.{link}", low=1, high=MAX_POSITION,
                             required=False)
    if step["no"] is not None and family(kind) == "action":
        raise _fail(_("Only decisions and conditions have a no path."), f"{at}.no")
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise _fail(_("%(field)s must be an object.") % {"field": f"{at}.config"},
                    f"{at}.config")
    if contains_nul(config):
        raise _fail(_("Text may not contain NUL characters."), f"{at}.config")
    check_json(config, f"{at}.config")
    if kind == S.SEND_EMAIL:
        template = integer(raw.get("template_id"), f"{at}.template_id", low=1,
                           high=2**63 - 1)
        refs.want("template", template)  # type: ignore[arg-type]
        step["template_id"] = template
    if kind == S.WAIT:
        step["wait_seconds"] = integer(raw.get("wait_seconds"), f"{at}.wait_seconds", low=0,
                                       high=MAX_SECONDS, required=False) or 0
    if kind == S.ADD_POINTS:
        step["points"] = integer(raw.get("points"), f"{at}.points", low=-MAX_POINTS,
                                 high=MAX_POINTS)
    step["config"] = clean_config(kind, config, f"{at}.config", refs)
    if kind == S.WAIT and not step["wait_seconds"] and "wait" not in step["config"]:
        raise _fail(_("Say how long to wait."), f"{at}.config.wait")
    return step


def check_json(value: Any, at: str) -> None:
    """JSON the database stores: no NaN nor infinity (PostgreSQL's jsonb refuses them)."""
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        raise _fail(_("%(field)s holds a number JSON cannot store (NaN or infinity).")
                    % {"field": at}, at) from None


def clean_config(kind: str, config: dict[str, Any], at: str, refs: References) -> dict[str, Any]:
    allowed = CONFIG_KEYS.get(kind)
    if allowed is None:  # a kind another app registered: its own check, if any
        registered = kind_of(kind)
        return registered.check(config, at) if registered and registered.check else config
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise _fail(_("Unknown field: %(field)s.") % {"field": unknown[0]}, f"{at}.{unknown[0]}")
    clean: dict[str, Any] = {}
    for key, value in config.items():
        if key in ROW_KEYS:
            if value in (None, "") and key == "user_id":
                continue  # assign: the routing rules decide
            pk = integer(value, f"{at}.{key}", low=1, high=2**63 - 1)
            refs.want(ROW_KEYS[key], pk)  # type: ignore[arg-type]
            clean[key] = pk
    for key in ROW_KEYS:
        if key in allowed and key != "user_id" and key not in clean:
            raise _fail(_("%(field)s is required.") % {"field": f"{at}.{key}"}, f"{at}.{key}")
    if family(kind) == "decision":
        clean.update(_decision(kind, config, at))
    elif kind == S.WAIT and config.get("wait") is not None:
        clean["wait"] = _nested(validate_wait, config["wait"], f"{at}.wait")
    elif kind == S.ADD_POINTS and config.get("category"):
        from leadflow.leads.models import Category

        if config["category"] not in Category.values:
            raise _fail(_("%(field)s must be one of %(choices)s.") % {
                "field": f"{at}.category", "choices": ", ".join(Category.values)},
                f"{at}.category")
        clean["category"] = config["category"]
    elif kind == S.SET_FIELD:
        clean.update(_set_field(config, at))
    elif kind == S.CHANGE_STAGE:
        from leadflow.lifecycle import stages

        stage = config.get("stage")
        if not isinstance(stage, str) or stages.get(stage) is None:
            raise _fail(_("Unknown stage %(stage)r.") % {"stage": str(stage)[:40]},
                        f"{at}.stage")
        clean["stage"] = stage
    elif kind == S.NOTIFY_OWNER:
        clean["message"] = _text(config.get("message"), f"{at}.message", 500)
    elif kind == S.CONDITION:
        clean["filter"] = _nested(validate_filter, config.get("filter"), f"{at}.filter")
    elif kind == S.SPLIT:
        percent = config.get("percent", 50)
        if isinstance(percent, bool) or not isinstance(percent, int | float) or not (
                0 <= percent <= 100):
            raise _fail(_("%(field)s must be a number from 0 to 100.")
                        % {"field": f"{at}.percent"}, f"{at}.percent")
        clean["percent"] = percent
    return clean


def _decision(kind: str, config: Mapping[str, Any], at: str) -> dict[str, Any]:
    from leadflow.scoring.conditions import validate_conditions
    from leadflow.scoring.models import RuleKind
    from leadflow.tracking.events import TYPE_NAME

    clean: dict[str, Any] = {"within_seconds": integer(
        config.get("within_seconds"), f"{at}.within_seconds", low=0, high=MAX_SECONDS,
        required=False) or 0}
    if config.get("where"):
        clean["where"] = _nested(lambda c: _where(validate_conditions, RuleKind.EVENT, c),
                                 config["where"], f"{at}.where")
    for key in ("url", "url_contains", "form"):
        if key in config:
            clean[key] = _text(config[key], f"{at}.{key}", 500, required=True)
    if kind == S.IF_EVENT:
        event_type = config.get("event_type")
        if not isinstance(event_type, str) or not TYPE_NAME.match(event_type):
            raise _fail(_("Name the event the decision waits for (e.g. purchase)."),
                        f"{at}.event_type")
        clean["event_type"] = event_type
    return clean


def _where(check: Any, kind: str, conditions: Any) -> Any:
    try:
        return check(kind, conditions)
    except InvalidInput as exc:  # "conditions.0.op" -> "0.op", under the step's "where"
        raise InvalidInput(exc.message, field=(exc.field or "").removeprefix("conditions.")
                           or None) from None


def _set_field(config: Mapping[str, Any], at: str) -> dict[str, Any]:
    from leadflow.leads.models import CustomFieldDefinition
    from leadflow.leads.services import SETTABLE_FIELDS

    name = config.get("field")
    known = isinstance(name, str) and (name in SETTABLE_FIELDS or (
        name.startswith("custom.") and CustomFieldDefinition.objects.filter(
            key=name.removeprefix("custom.")).exists()))
    if not known:
        raise _fail(_("%(field)s: choose one of %(choices)s, or custom.<key> of a declared "
                      "custom field.") % {"field": f"{at}.field",
                                          "choices": ", ".join(SETTABLE_FIELDS)},
                    f"{at}.field")
    value = config.get("value")
    if isinstance(value, dict | list):
        raise _fail(_("%(field)s must be a text, a number, true or false.")
                    % {"field": f"{at}.value"}, f"{at}.value")
    if isinstance(value, str) and len(value) > 1000:
        raise _fail(_("%(field)s must be a text of at most %(n)d characters.")
                    % {"field": f"{at}.value", "n": 1000}, f"{at}.value")
    return {"field": name, "value": value}


def _nested(check: Any, value: Any, at: str) -> Any:
    """A nested validator's answer, its error's field put under `at`."""
    try:
        return check(value)
    except InvalidInput as exc:
        raise _fail(exc.message, f"{at}.{exc.field}" if exc.field else at) from None


def validate_wait(spec: Any) -> dict[str, Any]:
    """campaigns.waits.validate; without that module (an older tree), a delay in seconds."""
    try:
        from leadflow.campaigns import waits
    except ImportError:
        seconds = spec.get("seconds") if isinstance(spec, dict) else None
        integer(seconds, "seconds", low=1, high=MAX_SECONDS)
        return {"kind": "delay", "seconds": seconds}
    return waits.validate(spec)


def validate_filter(tree: Any) -> dict[str, Any]:
    """segments.filters.validate; until the segments app is merged, any object."""
    try:
        from leadflow.segments import filters  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        if not isinstance(tree, dict):
            raise InvalidInput(_("The condition's filter must be an object."),
                               field=None) from None
        return tree
    return filters.validate(tree)  # type: ignore[no-any-return,unused-ignore]


def check_references(steps: list[dict[str, Any]], refs: References, campaign_id: int) -> None:
    """Each row a step names exists (templates, lists, campaigns, active users,
    segments); one query per kind of row."""
    refs.resolve()
    for index, step in enumerate(steps):
        at = f"steps.{index}"
        if step["template_id"] is not None and not refs.exists("template", step["template_id"]):
            raise _fail(_("No email template #%(id)s.") % {"id": step["template_id"]},
                        f"{at}.template_id")
        for key, kind in ROW_KEYS.items():
            pk = step["config"].get(key) if step["kind"] in CONFIG_KEYS else None
            if pk is None:
                continue
            if not valid_id(pk) or not refs.exists(kind, pk) or (
                    kind == "campaign" and pk == campaign_id):
                raise _fail(_("%(field)s: no such %(kind)s #%(id)s.")
                            % {"field": f"{at}.config.{key}", "kind": _row_name(kind),
                               "id": pk}, f"{at}.config.{key}")


def _row_name(kind: str) -> str:
    return {"segment": _("segment"), "list": _("list"), "user": _("active user"),
            "campaign": _("other campaign")}.get(kind, kind)
