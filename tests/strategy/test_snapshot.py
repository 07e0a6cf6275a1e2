"""The Parquet snapshot: the relations the nightly run reads, typed, with a manifest; DuckDB reads
it as it reads the database; a missing, partial or mismatched one is refused by name."""

import json
from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import assess_charges
from doorstep.strategy import domain, snapshot
from doorstep.strategy.engine.sparksql import to_spark
from doorstep.strategy.models import Decision, NightlyRun
from doorstep.synth import generate_portfolio
from tests.strategy.test_nightly import small_portfolio, state

AS_OF = date(2026, 11, 20)


def generated(tmp_path, accounts: int = 300) -> None:
    generate_portfolio(tmp_path / "p", accounts=accounts, seed=11, as_of=AS_OF - timedelta(days=1))
    import_portfolio(tmp_path / "p")
    assess_charges(AS_OF)


def sorted_rows(db, relation: str) -> list[tuple]:
    return db.execute(f"SELECT * FROM {relation} ORDER BY ALL").fetchall()  # noqa: S608


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_holds_what_the_database_gives_typed_with_its_manifest(tmp_path):
    generated(tmp_path)
    domain.run_nightly(AS_OF - timedelta(days=1), by="test")  # so `previous` has rows

    written = domain.take_snapshot(AS_OF, out=tmp_path / "snap", by="test")

    manifest = json.loads((tmp_path / "snap" / "snapshot.json").read_text())
    assert manifest["format"] == "doorstep.snapshot"
    assert manifest["schema_version"] == 1
    assert manifest["as_of"] == "2026-11-20"
    assert manifest["database"] == connection.vendor
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert list(manifest["tables"]) == list(snapshot.SCHEMA)
    from_database = duckdb.connect()
    for name, table in snapshot.arrow_snapshot(AS_OF).items():
        from_database.register(f"{name}_raw", table)
        typed = snapshot.TYPED.get(name, "*")
        from_database.execute(f"CREATE VIEW {name} AS SELECT {typed} FROM {name}_raw")  # noqa: S608
    from_files = duckdb.connect()
    for name, schema in snapshot.SCHEMA.items():
        path = tmp_path / "snap" / f"{name}.parquet"
        table = pq.read_table(path)
        assert table.schema == schema
        assert manifest["tables"][name] == {
            "file": f"{name}.parquet",
            "rows": table.num_rows,
            "columns": {f.name: str(f.type) for f in schema},
        }
        assert written.rows[name] == table.num_rows
        from_files.register(name, table)
        assert sorted_rows(from_files, name) == sorted_rows(from_database, name), name
    assert written.rows["previous"] > 250
    assert written.rows["accounts"] > 250
    assert written.rows["entries"] > written.rows["accounts"]


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_is_written_in_bounded_batches(tmp_path, monkeypatch):
    """Each relation streams through in record batches of at most BATCH_ROWS, one row group each:
    the writer never holds a whole relation."""
    generated(tmp_path)
    monkeypatch.setattr(snapshot, "BATCH_ROWS", 500)

    written = domain.take_snapshot(AS_OF, out=tmp_path / "snap", by="test")

    parquet = pq.ParquetFile(tmp_path / "snap" / "instalments.parquet")
    groups = [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)]
    assert sum(groups) == written.rows["instalments"] > 2000
    assert max(groups) <= 500
    assert len(groups) >= written.rows["instalments"] / 500


@pytest.mark.django_db(transaction=True)
def test_duckdb_on_the_snapshot_decides_and_writes_what_it_does_from_the_database(tmp_path):
    small_portfolio(tmp_path)
    domain.take_snapshot(AS_OF, out=tmp_path / "snap", by="test")
    strategy = domain.compiled(domain.active_version())
    database = domain.duckdb_decisions(AS_OF, strategy, snapshot.arrow_snapshot(AS_OF))
    files = domain.duckdb_decisions(
        AS_OF, strategy, snapshot.open_parquet_snapshot(tmp_path / "snap", as_of=AS_OF)
    )
    assert sorted_rows(files, "dec") == sorted_rows(database, "dec")

    domain.run_nightly(AS_OF, by="test")
    from_database = state()
    result = domain.run_nightly(AS_OF, by="test", snapshot_dir=tmp_path / "snap")

    assert state() == from_database
    assert (result.accounts, result.actions) == (4, 4)
    entry = NightlyRun.objects.get(pk=result.run_id)
    assert entry.engine == "duckdb"
    from doorstep.audit.models import AuditEntry

    audit = AuditEntry.objects.filter(code="nightly.completed").order_by("-seq").first()
    assert json.loads(audit.data)["snapshot"]["directory"] == str(tmp_path / "snap")


def write_good_snapshot(tmp_path):
    small_portfolio(tmp_path)
    domain.take_snapshot(AS_OF, out=tmp_path / "snap", by="test")
    return tmp_path / "snap"


def edit_manifest(directory, change) -> None:
    path = directory / "snapshot.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def refused(directory, as_of=AS_OF) -> snapshot.SnapshotInvalid:
    with pytest.raises(snapshot.SnapshotInvalid) as error:
        snapshot.open_parquet_snapshot(directory, as_of=as_of)
    return error.value


@pytest.mark.django_db(transaction=True)
def test_a_missing_partial_or_mismatched_snapshot_is_refused_by_name(tmp_path):
    good = write_good_snapshot(tmp_path)
    assert snapshot.open_parquet_snapshot(good, as_of=AS_OF).rows["accounts"] == 4

    missing = refused(tmp_path / "nowhere")
    assert missing.code == "snapshot.missing"
    assert "doorstep snapshot --as-of DATE --out DIR" in missing.message
    assert refused(good, AS_OF + timedelta(days=1)).code == "snapshot.as_of"
    assert "as of 2026-11-20, not 2026-11-21" in refused(good, AS_OF + timedelta(days=1)).message

    edit_manifest(good, lambda m: m.update(schema_version=2))
    assert refused(good).code == "snapshot.version"
    edit_manifest(good, lambda m: m.update(schema_version=1))
    edit_manifest(good, lambda m: m["tables"]["holds"].update(rows=7))
    assert refused(good).code == "snapshot.rows"
    edit_manifest(good, lambda m: m["tables"]["holds"].update(rows=0))
    assert snapshot.open_parquet_snapshot(good, as_of=AS_OF).rows["holds"] == 0

    contacts = (good / "contacts.parquet").read_bytes()
    (good / "contacts.parquet").write_bytes(contacts[: len(contacts) // 2])
    assert refused(good).code == "snapshot.table"
    (good / "contacts.parquet").unlink()
    assert refused(good).code == "snapshot.table"
    assert "has no contacts.parquet" in refused(good).message
    (good / "contacts.parquet").write_bytes(contacts)
    pq.write_table(pa.table({"account_id": ["A"], "stage": [1]}), good / "previous.parquet")
    assert refused(good).code == "snapshot.schema"
    assert "stage int64" in refused(good).message

    (good / "snapshot.json").write_text("{not json")
    assert refused(good).code == "snapshot.manifest"


@pytest.mark.django_db(transaction=True)
def test_the_commands_name_a_missing_snapshot_and_write_nothing(tmp_path):
    small_portfolio(tmp_path)

    with pytest.raises(CommandError, match="spark engine reads a Parquet snapshot"):
        call_command("nightly", "--as-of", "2026-11-20", "--engine", "spark")
    with pytest.raises(CommandError, match=r"no snapshot in .*nowhere"):
        call_command("nightly", "--as-of", "2026-11-20", "--snapshot", str(tmp_path / "nowhere"))
    with pytest.raises(CommandError, match="postgres engine runs in place"):
        call_command("nightly", "--as-of", "2026-11-20", "--engine", "postgres", "--snapshot", "x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="is not empty and holds no snapshot"):
        call_command("snapshot", "--as-of", "2026-11-20", "--out", str(tmp_path / "busy"))

    assert NightlyRun.objects.count() == Decision.objects.count() == 0
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_spark_sql_counts_days_between_dates_with_datediff():
    """DATE - DATE is a number of days in DuckDB and PostgreSQL, an interval in Spark; DATE -
    INTEGER is a date in all three."""
    sql = (
        "SELECT CAST(DATE '2026-11-20' - t.due AS INTEGER) AS dpd, t.due - 30 AS earlier, "
        "CAST(COALESCE(DATE '2026-11-20' - 30 - t.due, 0) AS INTEGER) AS then_dpd FROM t"
    )

    spark = to_spark(sql, {"t": {"due": "DATE"}})

    assert spark == (
        "SELECT CAST(DATEDIFF(CAST('2026-11-20' AS DATE), `t`.`due`) AS INT) AS `dpd`, "
        "`t`.`due` - 30 AS `earlier`, "
        "CAST(COALESCE(DATEDIFF(CAST('2026-11-20' AS DATE) - 30, `t`.`due`), 0) AS INT) "
        "AS `then_dpd` FROM `t` AS `t`"
    )
