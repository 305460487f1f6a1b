"""Large lists of values for the set-based hot paths (the event pipeline, imports).

Django writes `field IN (%s, %s, ...)` with one parameter per value, and psycopg quotes
each one in Python: for 1,000 to 5,000 ids, building the query cost more than running it.
On PostgreSQL the values travel instead as ONE array literal, built with a join, so the
query text is the same whatever the number of values (`field__among=values`, below).
Elsewhere (SQLite) the plain list is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import NotSupportedError, connection
from django.db.models import Field, ForeignObject, IntegerField, JSONField, Lookup, Model
from django.db.models.base import ModelState
from pydantic_core import to_json


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers: cast it with %s::bigint[]."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of strings (each quoted): cast it with %s::text[]."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


def time_array(values: Iterable[datetime | None]) -> str:
    """A PostgreSQL array literal of aware datetimes (None is NULL): cast it with
    %s::timestamptz[]. Equal times (a batch's often are) are formatted once."""
    texts: dict[datetime, str] = {}
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
        else:
            if (text := texts.get(v)) is None:
                text = texts[v] = f'"{v.isoformat()}"'
            out.append(text)
    return "{" + ",".join(out) + "}"


class Among(Lookup):
    """`field__among=values`: `field = ANY(%s::bigint[])` (or text[]) on PostgreSQL, one
    array parameter whatever the number of values; `field IN (...)` elsewhere.

    Not `field__in=`: its `IN (SELECT unnest(...))` form made PostgreSQL hash the whole
    table (a sequential scan that grows with it) where `= ANY` walks the index.
    """

    lookup_name = "among"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def as_sql(self, compiler, connection):
        values = [v for v in self.rhs if v is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        if field.is_relation:
            field = field.target_field
        integer = isinstance(field, IntegerField)
        if connection.vendor == "postgresql":
            if integer:
                return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, int_array(values)]
            return f"{lhs} = ANY(%s::text[])", [*lhs_params, text_array(map(str, values))]
        values = [int(v) if integer else str(v) for v in values]
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({marks})", [*lhs_params, *values]


Field.register_lookup(Among)
ForeignObject.register_lookup(Among)  # foreign keys keep lookups of their own


# COPY's text format, written here in one piece: psycopg's write_row converted each value
# through its adapters, 10 µs a row.


def _escape(text: str) -> str:
    # Four str.replace calls (each returns `text` itself when it has nothing to replace):
    # str.translate with a table was 4 µs a value.
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _copy_text(value: Any) -> str:
    """A value of the less common types in COPY's text format (bulk_insert writes None,
    str, int and datetime itself)."""
    if type(value) is bool:
        return "t" if value else "f"
    if isinstance(value, date):  # dates, and datetime subclasses: ISO 8601
        return value.isoformat()
    return _escape(str(value))  # floats, decimals, UUIDs, str and int subclasses (choices)


COPY_SLICE = 500

# Below this many rows, COPY's extra round trip costs more than an INSERT's compilation.
COPY_FROM = 50


def reserve_ids(model: type[Model], n: int) -> list[int]:
    """`n` new primary keys for rows of `model` not written yet, so that what refers to
    them can be built first (bulk_insert then keeps them). Never handed out twice while
    the reservation stands; rolled back, it leaves a gap on PostgreSQL (like any failed
    insert), and SQLite may hand those ids out again (whatever used them rolled back with
    it)."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence looked up once (a materialised one-row CTE):
            # pg_get_serial_sequence() in the select list ran its catalog look-up per row.
            cursor.execute("WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)"
                           "::regclass AS seq) SELECT nextval(s.seq) FROM s, "
                           "generate_series(1, %s)", [table, model._meta.pk.column or "id", n])
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # Django's SQLite tables are AUTOINCREMENT: their high-water mark lives in
            # sqlite_sequence, and raising it takes the database's write lock.
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT "
                           "EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                           [table, table])
            pk = connection.ops.quote_name(model._meta.pk.column or "id")
            quoted = connection.ops.quote_name(table)  # names from the model, not input
            cursor.execute(f"UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT "  # noqa: S608
                           f"COALESCE(MAX({pk}), 0) FROM {quoted})) + %s WHERE name = %s "
                           "RETURNING seq", [n, table])
            last = cursor.fetchone()[0]
            return list(range(last - n + 1, last + 1))
    raise NotSupportedError(f"reserve_ids does not support {connection.vendor}")


def bulk_insert(model: type[Model], objs: Sequence[Model], fields: Sequence[str], *,
                json_texts: dict[str, Sequence[str]] | None = None) -> None:
    """bulk_create for the hot paths: on PostgreSQL, from COPY_FROM rows, the ids come from
    the sequence in one query and the rows go in by COPY (building a 1,000-row INSERT cost
    more than the rest of an event batch). Sets each object's pk, unless they all have one
    already (reserve_ids). A unique constraint violated raises psycopg's UniqueViolation
    (IntegrityError with bulk_create).

    `json_texts` maps a JSON field's name to its values already serialised (one per
    object, in order), when the caller had to serialise them anyway (to check them).
    """
    preset = bool(objs) and objs[0].pk is not None
    if preset and any(obj.pk is None for obj in objs):
        raise ValueError("bulk_insert: either every object has its pk, or none")
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    columns = [f for f in (meta.get_field(name) for name in fields) if isinstance(f, Field)]
    assert len(columns) == len(fields), "only concrete fields can be copied"
    prepared = {i: json_texts[f.name] for i, f in enumerate(columns)
                if json_texts and f.name in json_texts}
    json_at = [i for i, f in enumerate(columns) if isinstance(f, JSONField) and i not in prepared]
    # Read from each object's __dict__ (where Model.__init__ and `builder` put every
    # field's value): getattr goes through a descriptor for each foreign key.
    attnames = [f.attname for f in columns]
    values = itemgetter(*attnames) if len(attnames) > 1 else (
        lambda d: (d[attnames[0]],))
    table = meta.db_table
    names = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in columns)
    ids = [obj.pk for obj in objs] if preset else reserve_ids(model, len(objs))
    with connection.cursor() as cursor:
        times: dict[datetime, str] = {}  # a batch's rows often share their times
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} (id, {names}) "
                                "FROM STDIN") as copy:
            lines = []
            for n, (pk, obj) in enumerate(zip(ids, objs, strict=True)):
                row = []
                for value in values(obj.__dict__):  # the common types inline
                    if value is None:
                        row.append("\\N")
                    elif (kind := type(value)) is str:
                        row.append(_escape(value))
                    elif kind is int:
                        row.append(str(value))
                    elif kind is datetime:
                        if (text := times.get(value)) is None:
                            text = times[value] = value.isoformat()
                        row.append(text)
                    elif kind is dict or kind is list:
                        row.append("")  # a JSON column: written below
                    else:
                        row.append(_copy_text(value))
                for i, texts in prepared.items():
                    row[i] = _escape(texts[n])
                for i in json_at:  # a JSON string or number is JSON too, not text
                    value = getattr(obj, attnames[i])
                    row[i] = "\\N" if value is None else _escape(to_json(value).decode())
                lines.append(f"{pk}\t" + "\t".join(row) + "\n")
                # Sent in slices: PostgreSQL stores (and indexes) the first rows while the
                # next ones are being formatted.
                if len(lines) == COPY_SLICE:
                    copy.write("".join(lines))
                    lines = []
            if lines:
                copy.write("".join(lines))
    for pk, obj in zip(ids, objs, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def builder[M: Model](model: type[M], fields: Sequence[str]) -> Callable[..., M]:
    """A constructor of new, unsaved `model` instances from positional values, `fields`
    being all its concrete fields' attnames in model order (checked here, once).

    For the hot paths only (a batch of 1,000 events): Model.__init__ sets each field
    through its descriptor, which was a third of the Python cost of such a batch. This
    sends no pre/post_init signals (the models built so have no receivers) and fills no
    defaults (every value is given).
    """
    attnames = tuple(f.attname for f in model._meta.concrete_fields)
    if tuple(fields) != attnames:
        raise ImproperlyConfigured(f"{model.__name__} fields are {attnames}, not {fields}")
    names = tuple(fields)
    new = object.__new__

    def build(*values: Any) -> M:
        obj = new(model)
        obj.__dict__.update(zip(names, values, strict=True))
        obj._state = ModelState()
        return obj

    return build


def bulk_set(model: type[Model], rows: Sequence[Sequence[Any]], fields: Sequence[str]) -> int:
    """Update many rows, each to its own values: `rows` are (pk, value, ...) for `fields`
    (concrete, non-JSON fields). On PostgreSQL one UPDATE ... FROM unnest(arrays): Django's
    bulk_update writes a CASE per field with a branch per row, which cost seconds of
    Python and SQL for 1,000 rows. Elsewhere (SQLite) one UPDATE executed per row
    (executemany). Returns rows updated."""
    if not rows:
        return 0
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    concrete = [f for f in (meta.get_field(name) for name in fields) if isinstance(f, Field)]
    assert len(concrete) == len(fields), "only concrete fields can be set"
    qn = connection.ops.quote_name
    names = [qn(f.column or f.attname) for f in concrete]
    key = qn(pk.column or pk.attname)
    if connection.vendor != "postgresql":  # SQLite: one prepared UPDATE, executed per row
        prepared = [[field.get_db_prep_save(value, connection)
                     for field, value in zip(concrete, row[1:], strict=True)] + [row[0]]
                    for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {qn(meta.db_table)} SET "  # noqa: S608
                               + ", ".join(f"{n} = %s" for n in names)
                               + f" WHERE {key} = %s", prepared)
            return cursor.rowcount
    types = [pk.rel_db_type(connection)] + [str(f.db_type(connection)) for f in concrete]
    arrays = [f"%s::{t}[]" for t in types]
    sql = (f"UPDATE {qn(meta.db_table)} AS t SET "  # noqa: S608 (names from the model)
           + ", ".join(f"{n} = v.{n}" for n in names)
           + f" FROM unnest({', '.join(arrays)}) AS v({key}, {', '.join(names)})"
           # The keys again, as a condition on the table: joined to the values alone,
           # PostgreSQL hashed the whole table for every call (a sequential scan that
           # grows with it); with `= ANY` it fetches each row by its index.
           + f" WHERE t.{key} = v.{key} AND t.{key} = ANY({arrays[0]})")
    columns = [list(col) for col in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*columns, columns[0]])
        return cursor.rowcount
