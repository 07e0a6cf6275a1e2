"""`cents_sum(bigint) → bigint` on PostgreSQL, for the in-place nightly run's ledger pass.

PostgreSQL's own SUM(bigint) returns numeric, and the ledger pass runs two running sums and seven
per-account sums over about 19 million rows at a million accounts: building a numeric for every
row and comparing it with the bigint instalment totals cost 7 of its 27 seconds. Money here is
integer cents throughout (an overflow raises, as int8pl does, rather than wrapping); no rows give
NULL, as SUM does. Nothing on SQLite, where the run goes through DuckDB.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE AGGREGATE cents_sum(bigint) (
    SFUNC = int8pl, STYPE = bigint, COMBINEFUNC = int8pl, PARALLEL = SAFE
)"""
DROP = "DROP AGGREGATE IF EXISTS cents_sum(bigint)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("strategy", "0004_spark_engine")]

    operations = [migrations.RunPython(create, drop)]
