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
