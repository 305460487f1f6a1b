"""Every index is written on each insert: none may be a mere prefix of another on the same
table (PostgreSQL serves a look-up on the leading columns from the longer one).

Django adds an index to each foreign key and a LIKE index to each indexed text column
unless told otherwise; on the event, score and lead tables those were pure write cost."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Non-unique, full (not partial) btree indexes of our tables: (table, name, columns).
_INDEXES = """
SELECT t.relname, i.relname, array_agg(a.attname ORDER BY k.ord)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
JOIN pg_am am ON am.oid = i.relam AND am.amname = 'btree'
CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE NOT x.indisunique AND x.indpred IS NULL AND t.relname NOT LIKE 'django_%%'
  AND t.relname NOT LIKE 'auth_%%'
GROUP BY t.relname, i.relname
"""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's catalog")
def test_no_index_is_a_prefix_of_another_on_the_same_table():
    with connection.cursor() as cursor:
        cursor.execute(_INDEXES)
        rows = cursor.fetchall()
    by_table: dict[str, list[tuple[str, list[str]]]] = {}
    for table, name, columns in rows:
        by_table.setdefault(table, []).append((name, list(columns)))
    redundant = sorted(
        f"{table}.{name} {columns} (covered by {other})"
        for table, indexes in by_table.items()
        for name, columns in indexes
        for other, longer in indexes
        if other != name and len(longer) > len(columns) and longer[:len(columns)] == columns)
    assert redundant == []


_TABLES = ("leads_lead", "scoring_scoreentry", "tracking_event", "capture_optinrequest")


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        return {name for table in _TABLES
                for name, info in connection.introspection.get_constraints(cursor, table).items()
                if info["index"]}


@pytest.mark.django_db(transaction=True)
def test_the_index_migrations_reverse_and_apply_again():
    # They are written by hand (leadflow.core.migration_ops: no table lock, no constraint
    # re-check), so their reverse is too.
    from django.db.migrations.executor import MigrationExecutor

    after = _index_names()
    executor = MigrationExecutor(connection)
    executor.migrate([("leads", "0002_quality_dedupe_privacy")])
    before = _index_names()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert _index_names() == after
    assert {"leads_lead_owner_id_1f4568d0", "tracking_event_lead_id_1f5e9099"} <= before
    assert not {"leads_lead_owner_id_1f4568d0", "tracking_event_lead_id_1f5e9099",
                "scoring_scoreentry_rule_id_2876801c"} & after
    assert {"lead_email_domain_idx", "lead_contact_incorrect_idx"} <= after - before
