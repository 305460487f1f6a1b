"""Large lists of values for the set-based hot paths (the event pipeline, imports).

Django writes `field IN (%s, %s, ...)` with one parameter per value, and psycopg quotes
each one in Python: for 1,000 to 5,000 ids, building the query cost more than running it.
On PostgreSQL the values travel instead as ONE array literal, built with a join, so the
query text is the same whatever the number of values. Elsewhere (SQLite) the plain list
is used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, JSONField, Model
from django.db.models.expressions import RawSQL


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers: cast it with %s::bigint[]."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of strings (each quoted): cast it with %s::text[]."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


def time_array(values: Iterable[datetime]) -> str:
    """A PostgreSQL array literal of aware datetimes: cast it with %s::timestamptz[]."""
    return "{" + ",".join('"' + v.isoformat() + '"' for v in values) + "}"


def among(values: Iterable[Any], *, text: bool = False) -> list[Any] | RawSQL:
    """The right-hand side of `field__in=` for many values: a one-parameter subquery over
    an array on PostgreSQL, the list itself elsewhere."""
    values = list(values)
    if connection.vendor != "postgresql":
        return values
    if text:
        return RawSQL("SELECT unnest(%s::text[])", [text_array(values)])  # type: ignore[arg-type]
    return RawSQL("SELECT unnest(%s::bigint[])", [int_array(values)])  # type: ignore[arg-type]


# Below this many rows, COPY's extra round trip costs more than an INSERT's compilation.
COPY_FROM = 50


def bulk_insert(model: type[Model], objs: Sequence[Model], fields: Sequence[str]) -> None:
    """bulk_create for the hot paths: on PostgreSQL, from COPY_FROM rows, the ids come from
    the sequence in one query and the rows go in by COPY (building a 1,000-row INSERT cost
    more than the rest of an event batch). Sets each object's pk. A unique constraint
    violated raises psycopg's UniqueViolation (IntegrityError with bulk_create)."""
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model._default_manager.bulk_create(objs)
        return
    meta = model._meta
    columns = [f for f in (meta.get_field(name) for name in fields) if isinstance(f, Field)]
    assert len(columns) == len(fields), "only concrete fields can be copied"
    json_at = {i for i, f in enumerate(columns) if isinstance(f, JSONField)}
    attnames = [f.attname for f in columns]
    table = meta.db_table
    names = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in columns)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                       "FROM generate_series(1, %s)", [table, len(objs)])
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} (id, {names}) "
                                "FROM STDIN") as copy:
            for pk, obj in zip(ids, objs, strict=True):
                row = [getattr(obj, a) for a in attnames]
                for i in json_at:
                    row[i] = json.dumps(row[i])
                copy.write_row((pk, *row))
    for pk, obj in zip(ids, objs, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
