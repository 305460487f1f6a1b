"""The leads search moves its trigram index off the lead rows (PostgreSQL).

Four GIN trigram indexes on leads_lead (core 0001) made every write of a lead row, a score
change included, insert some eighty trigram keys: half the cost of the re-score and decay
writes at a million leads. Their text now lives in leads_leadsearch, one upper-case line
per lead with one trigram index, kept by two triggers: after an INSERT statement (its new
rows in one set-based INSERT), and after an UPDATE of email, names or company that changes
one of them. A score write lists none of those columns, so no trigger fires. SQLite keeps
its scan of the lead columns and leaves the table empty.
"""

from django.db import migrations, models

TEXT = "upper(concat_ws(' ', {t}email, {t}first_name, {t}last_name, {t}company_name))"
COLUMNS = ("email", "first_name", "last_name", "company_name")

UP = f"""
INSERT INTO leads_leadsearch (lead_id, text) SELECT id, {TEXT.format(t='')} FROM leads_lead;
CREATE INDEX lead_search_trgm ON leads_leadsearch USING gin (text gin_trgm_ops);
ALTER TABLE leads_leadsearch ADD CONSTRAINT leads_leadsearch_lead_fk FOREIGN KEY (lead_id)
  REFERENCES leads_lead (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
CREATE FUNCTION leads_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO leads_leadsearch (lead_id, text)
    SELECT n.id, {TEXT.format(t='n.')} FROM new_rows AS n
    ON CONFLICT (lead_id) DO UPDATE SET text = excluded.text;
  RETURN NULL;
END $$;
CREATE FUNCTION leads_search_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO leads_leadsearch (lead_id, text) VALUES (NEW.id, {TEXT.format(t='NEW.')})
    ON CONFLICT (lead_id) DO UPDATE SET text = excluded.text;
  RETURN NULL;
END $$;
CREATE TRIGGER lead_search_inserted AFTER INSERT ON leads_lead
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION leads_search_inserted();
CREATE TRIGGER lead_search_updated AFTER UPDATE OF {', '.join(COLUMNS)} ON leads_lead
  FOR EACH ROW WHEN ({' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in COLUMNS)})
  EXECUTE FUNCTION leads_search_updated();
""" + "".join(f"DROP INDEX IF EXISTS lead_{c}_trgm;\n" for c in COLUMNS)

DOWN = "".join(
    f"CREATE INDEX IF NOT EXISTS lead_{c}_trgm ON leads_lead "
    f"USING gin ((UPPER({c}::text)) gin_trgm_ops);\n" for c in COLUMNS) + """
DROP TRIGGER IF EXISTS lead_search_updated ON leads_lead;
DROP TRIGGER IF EXISTS lead_search_inserted ON leads_lead;
DROP FUNCTION IF EXISTS leads_search_updated();
DROP FUNCTION IF EXISTS leads_search_inserted();
DELETE FROM leads_leadsearch;
ALTER TABLE leads_leadsearch DROP CONSTRAINT IF EXISTS leads_leadsearch_lead_fk;
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UP)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DOWN)


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0006_bant_grade_closed_stage_names"),
        ("core", "0001_lead_search_trigram_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadSearch",
            fields=[
                ("lead", models.OneToOneField(
                    db_constraint=False, on_delete=models.deletion.DO_NOTHING,
                    primary_key=True, related_name="+", serialize=False, to="leads.lead")),
                ("text", models.TextField(verbose_name="search text")),
            ],
            options={"db_table": "leads_leadsearch", "default_permissions": (),
                     "verbose_name": "lead search text",
                     "verbose_name_plural": "lead search texts"},
        ),
        migrations.RunPython(up, down, elidable=False),
    ]
