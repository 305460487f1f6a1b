"""Stand-ins for the engine's rescore, preview and condition check, with its signatures
(see engine_api.py): the editor works before the engine is merged. Delete this module
once engine_api imports the engine.

`rescore` here only re-adds the existing ledger (`recompute_scores`), so a rule change
moves no score until the engine rebuilds entries from the rules; `preview` is generic and
would do for the engine as well.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.core.errors import InvalidInput
from leadflow.leads.models import Lead
from leadflow.scoring.models import OPERATORS, ScoreGroup
from leadflow.scoring.services import recompute_scores
from leadflow.scoring.signals import scores_rebuilt


@dataclass
class RescoreResult:
    leads_changed: int = 0
    stage_moves: int = 0
    entries_added: int = 0
    entries_removed: int = 0
    entries_changed: int = 0
    seconds: float = 0.0


def rescore(*, lead_ids: Iterable[int] | None = None, cause: str = "rescore",
            notify: bool = False) -> RescoreResult:
    started = time.monotonic()
    leads = Lead.objects.all()
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    before = dict(leads.values_list("pk", "score"))
    recompute_scores(lead_ids)
    primary = ScoreGroup.objects.filter(is_primary=True).values_list("pk", flat=True).first()
    changes = {pk: {primary: (before.get(pk, 0), score)}
               for pk, score in leads.values_list("pk", "score") if before.get(pk, 0) != score}
    moves = 0
    if changes:
        for _receiver, moved in scores_rebuilt.send(sender=Lead, changes=changes, cause=cause,
                                                    notify=notify):
            moves += moved if isinstance(moved, int) else 0
    return RescoreResult(leads_changed=len(changes), stage_moves=moves,
                         seconds=time.monotonic() - started)


class _RollBack(Exception):
    pass


def preview(apply: Callable[[], None]) -> RescoreResult:
    """What `apply()` (unsaved rule changes) then a full re-score would change, without
    changing anything: both run in a savepoint that is rolled back (with the events and
    the after-commit work they queued)."""
    found: list[RescoreResult] = []
    try:
        with transaction.atomic():
            apply()
            found.append(rescore(cause="preview", notify=False))
            raise _RollBack
    except _RollBack:
        pass
    return found[0]


def validate_conditions(kind: str, conditions: Any) -> None:  # noqa: ARG001 (the engine's signature)
    """Raise InvalidInput (naming `conditions.<n>.<key>`) unless `conditions` is a list of
    {"field", "op", "value"} the engine can read."""
    if not isinstance(conditions, list):
        raise InvalidInput(_("Conditions must be a list."), field="conditions")
    for n, condition in enumerate(conditions):
        where = f"conditions.{n}"
        if not isinstance(condition, dict):
            raise InvalidInput(_("Each condition must be an object with a field, an "
                                 "operator and a value."), field=where)
        field, op = condition.get("field"), condition.get("op")
        if not isinstance(field, str) or not field.strip():
            raise InvalidInput(_("Condition %(n)s: choose a field.") % {"n": n + 1},
                               field=f"{where}.field")
        if op not in OPERATORS:
            raise InvalidInput(_("Condition %(n)s: unknown operator %(op)s (use one of "
                                 "%(ops)s).") % {"n": n + 1, "op": repr(op)[:40],
                                                 "ops": ", ".join(OPERATORS)},
                               field=f"{where}.op")
        value = condition.get("value")
        if op != "exists" and (value is None or value == "" or value == []):
            raise InvalidInput(_("Condition %(n)s: give a value to compare with.")
                               % {"n": n + 1}, field=f"{where}.value")
