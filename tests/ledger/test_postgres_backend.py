"""doorstep.postgres: Django's PostgreSQL backend without the `_like` pattern-ops indexes, and the
migration that drops those an older database has (PostgreSQL only)."""

import importlib

import pytest
from django.db import connection, connections, models
from django.db.backends.postgresql.schema import DatabaseSchemaEditor as DjangoSchemaEditor
from django.test.utils import isolate_apps

from doorstep.intake.importer import import_portfolio
from doorstep.ledger import privacy
from doorstep.ledger.models import Account, Borrower

migration = importlib.import_module("doorstep.ledger.migrations.0005_drop_like_indexes")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the `_like` indexes are PostgreSQL's")


def pattern_indexes(tables: str = "%") -> list[tuple[str, str]]:
    """(table, index) of every pattern-ops or `_like`-named index on tables matching `tables`."""
    with connection.cursor() as cursor:
        cursor.execute(
            r"""SELECT tablename, indexname FROM pg_indexes
                WHERE schemaname = current_schema() AND tablename LIKE %s
                  AND (indexname LIKE '%%\_like' OR indexdef LIKE '%%pattern_ops%%')
                ORDER BY 1, 2""",
            [tables],
        )
        return cursor.fetchall()


def test_the_engine_is_doorsteps():
    from doorstep.postgres.base import DatabaseSchemaEditor, DatabaseWrapper

    assert connection.settings_dict["ENGINE"] == "doorstep.postgres"
    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.vendor == "postgresql"
    with connection.schema_editor() as editor:
        assert type(editor) is DatabaseSchemaEditor


def test_no_like_index_on_doorsteps_tables_after_migrate():
    found = [
        (table, index)
        for table, index in pattern_indexes()
        if table.split("_", 1)[0] in migration.DOORSTEP_APPS
    ]

    assert found == []


def test_lookups_still_work(portfolio_dir):
    import_portfolio(portfolio_dir)
    cipher = privacy.configured_cipher()

    assert Borrower.objects.get(phone_hash=cipher.lookup_hash("138 1234 5678")).pk == "B0001"
    assert Borrower.objects.get(national_id_hash=cipher.lookup_hash("440305198803121233")).pk == (
        "B0001"
    )
    assert Account.objects.get(pk="A0001").borrower_id == "B0001"
    # A prefix search still answers (by a scan: no index serves it, and none needs to).
    assert list(
        Borrower.objects.filter(id__startswith="B000").values_list("pk", flat=True)[:2]
    ) == [
        "B0001",
        "B0002",
    ]


def test_schema_editor_builds_no_like_index_on_any_path():
    with isolate_apps("doorstep.ledger"):

        class Probe(models.Model):  # noqa: DJ008 - a table for the schema editor, never shown
            code = models.CharField(max_length=10, unique=True)
            label = models.CharField(max_length=10, db_index=True)
            note = models.TextField()
            plain = models.CharField(max_length=10)
            account = models.ForeignKey(Account, models.CASCADE, related_name="+")

            class Meta:
                app_label = "ledger"
                db_table = "ledger_likeprobe"

        with connection.schema_editor() as editor:
            editor.create_model(Probe)
            added = models.TextField(unique=True, default="")
            added.set_attributes_from_name("added")
            editor.add_field(Probe, added)
            old = Probe._meta.get_field("plain")
            unique = models.CharField(max_length=10, unique=True)
            unique.set_attributes_from_name("plain")
            editor.alter_field(Probe, old, unique)
            indexed = models.TextField(db_index=True)
            indexed.set_attributes_from_name("note")
            editor.alter_field(Probe, Probe._meta.get_field("note"), indexed)
        found = pattern_indexes("ledger\\_likeprobe")
        with connection.schema_editor() as editor:
            editor.delete_model(Probe)

    assert found == []


def test_the_migration_drops_an_older_databases_like_indexes():
    with connection.schema_editor() as editor:
        # What Django's own backend built on a doorstep key before doorstep.postgres.
        field = Borrower._meta.get_field("phone_hash")
        editor.execute(DjangoSchemaEditor._create_like_index_sql(editor, Borrower, field))
        # And one that only looks like it (a name ending in _like, no pattern ops): kept.
        editor.execute("CREATE INDEX ledger_borrower_name_like ON ledger_borrower (name)")
        created = pattern_indexes("ledger\\_borrower")

        migration.drop_like_indexes(None, editor)

    names = [index for _, index in created]
    assert names[0] == "ledger_borrower_name_like"
    assert names[1].startswith("ledger_borrower_phone_hash_")
    assert names[1].endswith("_like")
    assert len(names) == 2
    assert pattern_indexes("ledger\\_borrower") == [
        ("ledger_borrower", "ledger_borrower_name_like")
    ]
