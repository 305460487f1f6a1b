"""Writing the generator's rows (benchmarks/datagen.py), and the benchmarks' throw-away
databases: ids reserved from each table's sequence, COPY on PostgreSQL (secondary indexes
dropped and rebuilt for large loads), executemany on SQLite; the COPY ceiling.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

INDEX_REBUILD_FROM = 20_000
SLICE = 5_000  # rows per COPY write / executemany call


def reserve_range(model: Any, n: int) -> int:
    """The first of `n` consecutive new ids of `model`'s table, taken from its sequence
    (PostgreSQL: one setval; SQLite: the AUTOINCREMENT high-water mark), so that rows the
    app creates afterwards get ids after them. For a fixture: the range is consecutive
    only if nobody else inserts into the table meanwhile."""
    from django.db import connection

    if n <= 0:
        return 0
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(s.seq, nextval(s.seq) + %s - 1) FROM (SELECT "
                           "pg_get_serial_sequence(%s, 'id')::regclass AS seq) s",
                           [n, table])
            return cursor.fetchone()[0] - n + 1
        quoted = connection.ops.quote_name(table)
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT "
                       "EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                       [table, table])
        cursor.execute(f"UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT "  # noqa: S608
                       f"COALESCE(MAX(id), 0) FROM {quoted})) + %s WHERE name = %s "
                       "RETURNING seq", [n, table])
        return cursor.fetchone()[0] - n + 1


def write_rows(model: Any, columns: Sequence[str], rows: Any, rebuild: bool | None,
               count: int | None = None, constants: dict[str, Any] | None = None,
               safe: bool = False) -> None:
    """Rows of Python values (None, str, int, bool, datetime, dict/list as JSON) into
    `model`'s table, each followed by the same `constants` (column -> value): COPY on
    PostgreSQL, executemany elsewhere. `safe`: the strings hold no tab, newline or
    backslash (the generator's pools), so COPY needs no escaping."""
    from django.db import connection

    constants = constants or {}
    columns = [*columns, *constants]
    if connection.vendor == "postgresql":
        tail = "".join("\t" + _copy_value(v) for v in constants.values()) + "\n"
        convert = _safe_text if safe else _copy_value

        def lines() -> Iterator[str]:
            for row in rows:
                yield "\t".join(map(convert, row)) + tail

        _copy_lines(model, columns, lines(),
                    _rebuild(rebuild, count if count is not None else len(rows)))
    else:
        extra = tuple(_sqlite_value(v) for v in constants.values())

        def adapted() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                yield tuple(_sqlite_value(v) for v in row) + extra

        _insert_many(model, columns, adapted())


def _safe_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return value if type(value) is str else str(value)


def _rebuild(rebuild: bool | None, rows: int) -> bool:
    return rows >= INDEX_REBUILD_FROM if rebuild is None else rebuild


def _copy_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return _copy_escape(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is datetime:
        return value.isoformat()
    if kind is dict or kind is list:
        return _copy_escape(json.dumps(value, ensure_ascii=False))
    return _copy_escape(str(value))


def _sqlite_value(value: Any) -> Any:
    if type(value) is datetime:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _copy_lines(model: Any, columns: Sequence[str], lines: Iterator[str],
                rebuild: bool) -> None:
    """COPY text lines into the table, its secondary indexes dropped and built again after
    when `rebuild` (the caller's transaction keeps it all-or-nothing)."""
    from django.db import connection

    table = model._meta.db_table
    t = time.perf_counter()
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, table) if rebuild else []
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        derived = DERIVED.get(table) if rebuild else None
        if derived:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            before = cursor.fetchone()[0]
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {derived[0]}")
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) "
                                "FROM STDIN") as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == SLICE:
                    copy.write("".join(chunk))
                    chunk = []
            if chunk:
                copy.write("".join(chunk))
        _timed(f"{table} copy", t)
        if derived:
            _fill_derived(cursor, table, derived, before)
        if indexes:
            # Django's foreign keys are deferred: their checks of the copied rows must run
            # before an index can be built on the table.
            t = time.perf_counter()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            _timed(f"{table} foreign keys", t)
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            t = time.perf_counter()
            for _name, definition in indexes:
                cursor.execute(definition)
            _timed(f"{table} {len(indexes)} indexes", t)


# A table whose trigger keeps a derived copy (the leads search text, leads migration 0007):
# table -> (trigger, derived table, the INSERT ... SELECT that fills it for ids above %s).
# A large COPY disables the trigger (its transition table would hold every copied row) and
# fills the copy in one statement, its indexes dropped and built again.
def _search_text_sql() -> str:
    text = importlib.import_module("leadflow.leads.migrations.0007_lead_search_table").TEXT
    return ("INSERT INTO leads_leadsearch (lead_id, text) SELECT id, "  # noqa: S608
            f"{text.format(t='')} FROM leads_lead WHERE id > %s")


DERIVED: dict[str, tuple[str, str, Callable[[], str]]] = {
    "leads_lead": ("lead_search_inserted", "leads_leadsearch", _search_text_sql)}


def _fill_derived(cursor: Any, table: str, derived: tuple[str, str, Callable[[], str]],
                  after_id: int) -> None:
    trigger, copy_table, sql = derived
    t = time.perf_counter()
    indexes = _secondary_indexes(cursor, copy_table)
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute(sql(), [after_id])
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no index build with checks pending
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
    _timed(f"{copy_table} (derived from {table})", t)


# Seconds per step of the last loads (COPY, deferred foreign-key checks, index builds),
# to see where a slow load spends its time.
TIMINGS: dict[str, float] = {}


def _timed(step: str, since: float) -> None:
    TIMINGS[step] = TIMINGS.get(step, 0.0) + time.perf_counter() - since


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's indexes that back no constraint (the
    primary key and real constraints stay)."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
        "current_schema() AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint "
        "c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
        "quote_ident(i.indexname))::regclass)", [table])
    return list(cursor.fetchall())


def _insert_many(model: Any, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> None:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (model names)
    with connection.cursor() as cursor:
        chunk: list[tuple[Any, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == SLICE:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)


def analyze() -> None:
    """Statistics for the planner, as autovacuum would gather them (PostgreSQL)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# -- a throw-away database, for the command and the benchmarks --------------------------

def setup_django(postgres: str | None, database: str, *, task_backend: str = "immediate",
                 drop_first: bool = True,
                 email_backend: str = "django.core.mail.backends.locmem.EmailBackend") -> str:
    """Point Django at a fresh database (PostgreSQL: `database` on the server of the URL
    `postgres`, dropped first; else a temporary SQLite file), migrate it, and return its
    URL. Call before anything imports the app's models."""
    tmp = tempfile.mkdtemp(prefix="leadflow-bench-")
    if postgres:
        import psycopg

        base = postgres.rstrip("/")
        with psycopg.connect(base, autocommit=True) as conn:
            if drop_first:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
        url = f"{base.rpartition('/')[0]}/{database}"
    else:
        url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.update({
        "LEADFLOW_DATA_DIR": tmp, "DATABASE_URL": url,
        "LEADFLOW_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LEADFLOW_TASK_BACKEND": task_backend,
        "LEADFLOW_EMAIL_BACKEND": email_backend,
        "DJANGO_SETTINGS_MODULE": "leadflow.settings"})
    os.environ.setdefault("LEADFLOW_SECRET_KEY", "bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def drop_database(postgres: str, database: str) -> None:
    import psycopg
    from django.db import connection

    connection.close()
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def copy_ceiling(url: str, rows: int) -> float:
    """Rows per second of psycopg COPY of event-shaped rows into a plain table (no index
    but its primary key): what this machine can insert at all, to compare the other
    figures with."""
    import psycopg

    now = datetime.now(UTC)
    props = json.dumps({"path": "/pricing", "title": "A page",
                        "referrer": "https://www.google.com/"})
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bench_copy (id bigserial PRIMARY KEY, lead_id bigint, "
                     "type varchar(60), properties jsonb, occurred_at timestamptz, "
                     "idempotency_key varchar(120))")
        conn.commit()
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
                "COPY bench_copy (lead_id, type, properties, occurred_at, idempotency_key) "
                "FROM STDIN") as copy:
            for i in range(rows):
                copy.write_row((i % 20000, "page_view", props, now, f"copy-{i}"))
        conn.commit()
        elapsed = time.perf_counter() - t
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return rows / elapsed
