"""Django's PostgreSQL backend, minus the second index it builds for LIKE on every text key.

For each CharField or TextField with `db_index` or `unique`, Django's schema editor adds a
`…_like` index with `varchar_pattern_ops` (or `text_pattern_ops`) beside the ordinary one, so
that `startswith` can use an index outside the C locale. doorstep makes no such lookup on an
indexed column (admin searches are `icontains` or exact, which these indexes cannot serve), so
each is pure write cost: on an import, one more B-tree insert per row for every account,
borrower, payment reference and contact id. Settings use this backend whenever DATABASE_URL
names PostgreSQL; `vendor` stays "postgresql", so everything that asks for it is unchanged.
A field that one day needs a prefix search declares its own index with the opclass, by name.
"""

from django.db.backends.postgresql import base, schema


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _create_like_index_sql(self, model, field):
        # Every path that would add one asks here: create_model and add_field (through
        # _field_indexes_sql) and _alter_field (an index or unique added, or a text column's type
        # changed). The paths that drop one use DROP INDEX IF EXISTS, harmless without it.
        return None


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
