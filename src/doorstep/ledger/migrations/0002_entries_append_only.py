"""Ledger entries cannot be edited, whatever code path tries: the database refuses UPDATE.

(Deletion is refused by the model and by PROTECT foreign keys; a row-level DELETE trigger would
also block the retention purge that DOMAIN §8 allows after five years, and test flushes.)
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE ON ledger_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversing entry'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS ledger_entry_append_only"]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'ledger entries are append-only: post a reversing entry'; END;
       $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE ON ledger_ledgerentry
       FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_ledgerentry",
    "DROP FUNCTION IF EXISTS ledger_entry_append_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
