"""Segment filters in SQL: one compiler for PostgreSQL and SQLite, with the semantics of
scoring.conditions (missing values, ASCII case folding, numbers only compared with
numbers). The Python twin is segments.evaluate; tests/test_filters_sql_equals_python.py
holds them to the same answers on random data.

The public interface (the campaign engine calls it):
- `validate(tree)`: the tree checked (InvalidInput naming the node) and normalised,
  the segments and lists it names existing, no segment reading itself around a loop;
- `lead_queryset(tree)`: the matching leads, as a QuerySet (erased leads never match);
- `matching_among(tree, lead_ids)`: the matching leads among those, one query per
  CHUNK ids.

A behaviour leaf ("at least 6 page views whose url contains /tv/ within 30 days") is a
semi-join on one GROUP BY of the events of that type and time range (the event table's
(type, occurred_at) index), not a correlated count per lead; restricted to a few leads
(`matching_among`), it reads their events through the (lead, occurred_at) index instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from leadflow.core import clock
from leadflow.core.errors import InvalidInput
from leadflow.core.sqlarrays import int_array
from leadflow.leads.models import Lead
from leadflow.scoring.conditions import event_sql, fold, matches
from leadflow.segments import language
from leadflow.segments.language import BOOL, INT, TEXT

# Lead ids per query of matching_among.
CHUNK = 5000
L = "leads_lead"  # the lead table, unaliased in Django's queries and ours
_FALSE, _TRUE = "1=0", "1=1"


def validate(tree: Any, *, segment_id: int | None = None) -> dict:
    """The filter checked and normalised (see segments.language), the segments, lists
    and score groups it names existing, and no loop of segments reading each other
    (`segment_id`: the segment the filter is for, when it exists already)."""
    from leadflow.lists.models import LeadList
    from leadflow.scoring.models import ScoreGroup
    from leadflow.segments.models import Segment

    tree = language.validate(tree)
    for key, model, missing in (
            ("segment", Segment, _("No segment #%(id)s.")),
            ("list", LeadList, _("No list #%(id)s.")),
            ("score_group", ScoreGroup, _("No score group #%(id)s."))):
        wanted = {leaf[key] for leaf in language.leaves(tree) if key in leaf}
        found = set(model._default_manager.filter(pk__in=wanted).values_list("pk", flat=True))
        if gone := sorted(wanted - found):
            raise InvalidInput(missing % {"id": gone[0]}, field="filter")
    if segment_id is not None:
        _refuse_loops(segment_id, language.references(tree, "segment"))
    return tree


def _refuse_loops(segment_id: int, reads: set[int]) -> None:
    from leadflow.segments.models import Segment

    graph = dict(Segment.objects.values_list("pk", "reads_segments"))
    graph[segment_id] = sorted(reads)
    seen: set[int] = set()
    stack = list(reads)
    while stack:
        current = stack.pop()
        if current == segment_id:
            raise InvalidInput(_("A segment cannot read itself, directly or through other "
                                 "segments."), field="filter")
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current) or ())


def lead_queryset(tree: dict) -> QuerySet[Lead]:
    """The leads the (valid) filter matches now; never an erased one."""
    sql, params = compile_filter(tree)
    return Lead.objects.filter(erased_at__isnull=True).filter(
        RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611


def matching_among(tree: dict, lead_ids: Sequence[int]) -> set[int]:
    """The leads among `lead_ids` the (valid) filter matches now: one query per CHUNK
    ids, whatever the filter (its behaviour leaves read only these leads' events)."""
    ids = sorted({int(i) for i in lead_ids})
    found: set[int] = set()
    now = clock.now()
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        where, params = compile_filter(tree, now=now, among=part)
        among, among_params = among_sql(f"{L}.id", part)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {L}.id FROM {L} WHERE {among} "  # noqa: S608
                           f"AND {L}.erased_at IS NULL AND ({where})", [*among_params, *params])
            found.update(row[0] for row in cursor.fetchall())
    return found


def among_sql(column: str, ids: Sequence[int]) -> tuple[str, list]:
    if not ids:
        return _FALSE, []
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [int_array(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def compile_filter(tree: dict, *, now: datetime | None = None,
                   among: Sequence[int] | None = None) -> tuple[str, list]:
    """The filter as one SQL boolean over the lead table (`leads_lead`), and its
    parameters; never NULL. `among` restricts the subqueries to those leads."""
    return _Compiler(now or clock.now(), among).node(tree)


class _Compiler:
    def __init__(self, now: datetime, among: Sequence[int] | None):
        self.now = now
        self.among = list(among) if among is not None else None
        self.pg = connection.vendor == "postgresql"
        self._primary: int | None | bool = False  # not looked up yet

    def node(self, tree: dict) -> tuple[str, list]:
        kind = language.kind_of(tree)
        if kind in ("all", "any"):
            parts = [self.node(item) for item in tree[kind]]
            if not parts:
                return (_TRUE if kind == "all" else _FALSE), []
            joiner = " AND " if kind == "all" else " OR "
            return "(" + joiner.join(s for s, _ in parts) + ")", [p for _, ps in parts
                                                                   for p in ps]
        if kind == "not":
            sql, params = self.node(tree["not"])
            return f"(NOT {sql})", params
        return getattr(self, f"_{kind}")(tree)

    def _restrict(self, column: str) -> tuple[str, list]:
        if self.among is None:
            return "", []
        sql, params = among_sql(column, self.among)
        return f" AND {sql}", params

    # --- lead, company and score fields --------------------------------------------

    def _field(self, leaf: dict) -> tuple[str, list]:
        field = leaf["field"]
        if field.startswith("custom."):
            condition = {**leaf, "field": field[len("custom."):]}
            sql, params = event_sql([condition], f"{L}.custom")
            return f"({sql})", params
        if field.startswith("company."):
            name = field[len("company."):]
            sql, params = self._compare(f"c.{name}", language.COMPANY_KINDS[name], leaf)
            sub = f"{L}.company_id IN (SELECT c.id FROM leads_company AS c WHERE {sql})"  # noqa: S608
            if leaf["op"] == "exists" and leaf["value"] is False:
                return f"({L}.company_id IS NULL OR {sub})", params
            return f"({L}.company_id IS NOT NULL AND {sub})", params
        column = language.COLUMNS.get(field, field)
        return self._compare(f"{L}.{column}", language.FIELD_KINDS[field], leaf)

    def _score_group(self, leaf: dict) -> tuple[str, list]:
        field = leaf["field"]
        if leaf["score_group"] == self.primary():
            column = language.PRIMARY_COLUMNS[field]
            return self._compare(f"{L}.{column}", language.GROUP_FIELDS[field], leaf)
        sql, params = self._compare(f"g.{field}", language.GROUP_FIELDS[field], leaf)
        restrict, more = self._restrict("g.lead_id")
        # A lead without a row in the group has no points there: 0, and no grade.
        default = {field: "" if field == "grade" else 0}
        head = ("SELECT g.lead_id FROM scoring_leadgroupscore AS g WHERE g.group_id = %s"  # noqa: S608
                f"{restrict}")
        if matches([leaf], default):
            return (f"({L}.id NOT IN ({head} AND NOT {sql}))",
                    [leaf["score_group"], *more, *params])
        return f"({L}.id IN ({head} AND {sql}))", [leaf["score_group"], *more, *params]

    @staticmethod
    def time(value: datetime) -> Any:
        # As Django stores it: SQLite compares datetimes as text, in Django's format.
        return connection.ops.adapt_datetimefield_value(value)

    def primary(self) -> int | None:
        if self._primary is False:
            from leadflow.scoring.models import ScoreGroup

            self._primary = ScoreGroup.objects.filter(is_primary=True).values_list(
                "pk", flat=True).first()
        return self._primary  # type: ignore[return-value]

    def _compare(self, column: str, kind: str, leaf: dict) -> tuple[str, list]:
        """One comparison on a typed column, true exactly when scoring.conditions'
        `matches` is for the column's value (None and "" being missing)."""
        op, wanted = leaf["op"], leaf["value"]
        present = (f"({column} IS NOT NULL AND {column} <> '')" if kind == TEXT
                   else f"({column} IS NOT NULL)")
        if op == "exists":
            return (present if wanted else f"(NOT {present})"), []
        pieces: list[tuple[str, list]]
        if op in ("equals", "one_of"):
            pieces = [self._equals(column, kind, w)
                      for w in (wanted if op == "one_of" else [wanted])]
            pieces = [p for p in pieces if p[0] != _FALSE]
            if not pieces:
                return _FALSE, []
            return (f"({present} AND (" + " OR ".join(s for s, _ in pieces) + "))",
                    [p for _, ps in pieces for p in ps])
        if op in ("contains", "starts_with"):
            if kind != TEXT:
                return _FALSE, []
            found = (f"strpos({self._fold(column)}, %s)" if self.pg
                     else f"instr({self._fold(column)}, %s)")
            test = "> 0" if op == "contains" else "= 1"
            return f"({present} AND {found} {test})", [fold(wanted)]
        if kind != INT:
            return _FALSE, []
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"({present} AND {column} {sign} %s)", [wanted]

    def _equals(self, column: str, kind: str, wanted: Any) -> tuple[str, list]:
        if isinstance(wanted, bool):
            return (f"({column} = %s)", [wanted]) if kind == BOOL else (_FALSE, [])
        if isinstance(wanted, int | float):
            return (f"({column} = %s)", [wanted]) if kind == INT else (_FALSE, [])
        return (f"({self._fold(column)} = %s)", [fold(wanted)]) if kind == TEXT \
            else (_FALSE, [])

    def _fold(self, column: str) -> str:
        if self.pg:
            return (f"translate({column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
                    "'abcdefghijklmnopqrstuvwxyz')")
        return f"lower({column})"  # SQLite's lower() folds ASCII letters only

    def _quality_flag(self, leaf: dict) -> tuple[str, list]:
        if self.pg:
            return (f"COALESCE({L}.quality_flags @> %s::jsonb, false)",
                    [json.dumps([leaf["quality_flag"]])])
        return (f"EXISTS (SELECT 1 FROM json_each({L}.quality_flags) WHERE value = %s)",  # noqa: S608
                [leaf["quality_flag"]])

    # --- behaviour ---------------------------------------------------------------------

    def _behaviour(self, leaf: dict) -> tuple[str, list]:
        spec = language.behaviour(leaf)
        assert spec is not None
        if spec.min == 0 and spec.max is None:
            return _TRUE, []
        where, params = self._where(spec.where)
        if spec.unless:
            unless, more = event_sql(list(spec.unless), "e.properties")
            where, params = f"{where} AND NOT ({unless})", [*params, *more]
        since, since_params = "", []
        if spec.days is not None:
            since, since_params = " AND e.occurred_at >= %s", [
                self.time(self.now - timedelta(days=spec.days))]
        restrict, among = self._restrict("e.lead_id")
        sub = (f"SELECT e.lead_id FROM tracking_event AS e WHERE e.type = %s{since}"  # noqa: S608
               f"{restrict} AND e.lead_id IS NOT NULL AND {where}")
        sub_params = [spec.type, *since_params, *among, *params]
        if spec.min == 0:  # at most `max`: not among those with more
            if spec.max:
                sub += " GROUP BY e.lead_id HAVING COUNT(*) > %s"
                sub_params.append(spec.max)
            return f"({L}.id NOT IN ({sub}))", sub_params
        if spec.max is not None:
            sub += " GROUP BY e.lead_id HAVING COUNT(*) >= %s AND COUNT(*) <= %s"
            sub_params += [spec.min, spec.max]
        elif spec.min > 1:
            sub += " GROUP BY e.lead_id HAVING COUNT(*) >= %s"
            sub_params.append(spec.min)
        return f"({L}.id IN ({sub}))", sub_params

    _event = _email = _purchase = _behaviour

    def _where(self, conditions: tuple[dict, ...]) -> tuple[str, list]:
        """Conditions on an event's properties: scoring.conditions.event_sql, but on
        PostgreSQL text matches take a cheaper road to the same answer. translate() (the
        ASCII folding) cost three quarters of a story-4 rebuild over ten million events:
        a property holding the folded needle as it is matches with no folding, one that
        does not even match case-insensitively (ILIKE folds more than ASCII, so it only
        rules out) does not, and only the rest is folded."""
        slow = [c for c in conditions if not (self.pg and c["op"] in ("contains", "starts_with")
                                              and isinstance(c.get("value"), str))]
        sql, params = event_sql(slow, "e.properties")
        for c in conditions:
            if c in slow:
                continue
            needle = fold(c["value"])
            is_text = "jsonb_typeof(e.properties -> %s) IS DISTINCT FROM 'string'"
            raw = "(e.properties ->> %s)"
            folded = ("translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
                      "'abcdefghijklmnopqrstuvwxyz')")
            if c["op"] == "starts_with":
                test = folded.format(f"left({raw}, %s)") + " = %s"
                sql += f" AND (CASE WHEN {is_text} THEN false ELSE {test} END)"
                params += [c["field"], c["field"], len(needle), needle]
            else:
                like = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace(
                    "_", "\\_") + "%"
                sql += (f" AND (CASE WHEN {is_text} THEN false WHEN strpos({raw}, %s) > 0 "
                        f"THEN true WHEN {raw} NOT ILIKE %s THEN false "
                        f"ELSE strpos({folded.format(raw)}, %s) > 0 END)")
                params += [c["field"], c["field"], needle, c["field"], like, c["field"],
                           needle]
        return sql, params

    def _inactive_days(self, leaf: dict) -> tuple[str, list]:
        # As score decay reads activity: the last touch (the lead's own events, not what
        # we did to it), or its creation.
        return (f"(COALESCE({L}.last_touch_at, {L}.created_at) <= %s)",
                [self.time(self.now - timedelta(days=leaf["inactive_days"]))])

    def _segment(self, leaf: dict) -> tuple[str, list]:
        restrict, among = self._restrict("m.lead_id")
        return (f"({L}.id IN (SELECT m.lead_id FROM segments_segmentmember AS m "  # noqa: S608
                f"WHERE m.segment_id = %s{restrict}))", [leaf["segment"], *among])

    def _list(self, leaf: dict) -> tuple[str, list]:
        restrict, among = self._restrict("m.lead_id")
        return (f"({L}.id IN (SELECT m.lead_id FROM lists_listmember AS m "  # noqa: S608
                f"WHERE m.list_id = %s{restrict}))", [leaf["list"], *among])
