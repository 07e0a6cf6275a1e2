"""Drop the `_like` pattern-ops indexes Django's PostgreSQL backend built on doorstep's text keys.

Settings now use doorstep.postgres, which never creates them (its module says why: no lookup of
doorstep's uses them, and each costs a B-tree insert per imported row). This removes the ones that
databases created before it already have, on every doorstep app's tables, whichever migration made
them. Django names them `<table>_<column>_<hash>_like` and builds them with varchar_pattern_ops or
text_pattern_ops; both are checked, so no index of another kind is touched. Nothing on SQLite.
Reversing does nothing: the backend would not rebuild them, and nothing needs them.
"""

from django.db import migrations

# The apps of doorstep that have tables, by label (each table's name starts with it). Fixed as of
# this migration: an app added later is created by the new backend and has no such index.
DOORSTEP_APPS = (
    "api", "arrangements", "audit", "complaints", "compliance", "contact", "ledger", "payments",
    "placements", "portal", "scoring", "strategy", "visits", "worklist",
)  # fmt: skip


def like_indexes(cursor) -> list[str]:
    """The `_like` pattern-ops indexes on doorstep's tables in the current schema."""
    cursor.execute(
        r"""SELECT indexname FROM pg_indexes
            WHERE schemaname = current_schema()
              AND indexname LIKE '%%\_like'
              AND indexdef ~ '(varchar|text)_pattern_ops'
              AND split_part(tablename, '_', 1) = ANY(%s)
            ORDER BY indexname""",
        [list(DOORSTEP_APPS)],
    )
    return [name for (name,) in cursor.fetchall()]


def drop_like_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        names = like_indexes(cursor)
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_alter_hold_kind")]

    operations = [migrations.RunPython(drop_like_indexes, migrations.RunPython.noop)]
