"""The nightly run on Spark decides exactly what DuckDB (from the database and from the snapshot),
PostgreSQL in place and the real-time path decide, and writes what DuckDB writes.

One JVM per test run: these tests share the xdist group `spark` (make test runs with --dist
loadgroup) and the session-wide SparkSession below."""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest
from django.db import connection, transaction
from django.test import override_settings

from doorstep.audit.models import AuditEntry
from doorstep.intake.importer import import_portfolio
from doorstep.ledger.domain import assess_charges
from doorstep.ledger.models import Account
from doorstep.scoring.domain import activate_model, active_model, register_model
from doorstep.strategy import domain, queries, snapshot
from doorstep.strategy.engine.decide import decide, decisions_sql
from doorstep.strategy.engine.featuresql import arm_bucket_sql, features_sql
from doorstep.strategy.models import Decision, NightlyRun
from doorstep.synth import generate_portfolio
from tests.strategy.test_equivalence import DECISION
from tests.strategy.test_nightly import small_portfolio, state

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="session")
def spark_session():
    from django.conf import settings

    from doorstep.strategy import spark

    quick = {**settings.DOORSTEP_SPARK, "master": "local[2]", "shuffle_partitions": 2}
    with override_settings(DOORSTEP_SPARK=quick):
        session = spark.session()
    yield session
    spark.stop()


def spark_rows(session, source: snapshot.ParquetSnapshot, strategy) -> dict[str, dict]:
    """Features and decision of every account on Spark, scored when a model is active (as the
    nightly run does it)."""
    from doorstep.scoring.domain import scores_table
    from doorstep.scoring.engine.features import INPUTS
    from doorstep.strategy import spark

    spark.features(session, source, features_sql(source.as_of, "spark"))
    model = active_model()
    if model is not None:
        spark.score(session, lambda inputs: scores_table(model, inputs), tuple(INPUTS), "dpd > 0")
    try:
        rows = spark.decisions(session, decisions_sql(strategy, "features", "duckdb"))
        return {row["account_id"]: row for row in rows.toArrow().to_pylist()}
    finally:
        spark.release(session)


def duckdb_rows(tables, strategy) -> dict[str, dict]:
    cursor = domain.duckdb_decisions(AS_OF, strategy, tables).execute("SELECT * FROM dec")
    names = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def postgres_rows(strategy) -> dict[str, dict]:
    """Features and decisions in place, scored as the night scores them."""
    features = features_sql(AS_OF, "postgres", sources=snapshot.source_ctes(AS_OF))
    decided = decisions_sql(strategy, "features", "postgres")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE nightly_features ON COMMIT DROP AS {features}")
        model = active_model()
        if model is not None:
            domain._score_in_postgres(cursor, model)
        cursor.execute(decided.replace("FROM features f", "FROM nightly_features f"))
        names = [c.name for c in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def differences(expected: dict, found: dict) -> dict:
    return {k: (v, found[k]) for k, v in expected.items() if k in found and v != found[k]}


@pytest.mark.django_db(transaction=True)
def test_a_generated_portfolio_decides_the_same_on_spark_and_every_other_path(
    tmp_path, spark_session, settings
):
    from tests.scoring.conftest import tiny_model

    settings.DOORSTEP_SCORING = {**settings.DOORSTEP_SCORING, "model_dir": str(tmp_path / "m")}
    at = datetime(2026, 11, 19, tzinfo=UTC)
    row = register_model(tiny_model(), data="test", data_sha256="", metrics={}, by="t", at=at)
    activate_model(row.version, by="t", at=at)
    generate_portfolio(tmp_path / "p", accounts=2500, seed=21, as_of=AS_OF - timedelta(days=1))
    import_portfolio(tmp_path / "p")
    assess_charges(AS_OF - timedelta(days=30))
    assess_charges(AS_OF)
    domain.run_nightly(AS_OF - timedelta(days=1), by="test")  # yesterday's stages
    source = domain.take_snapshot(AS_OF, out=tmp_path / "snap", by="test")
    strategy = domain.compiled(domain.active_version())

    on_spark = spark_rows(spark_session, source, strategy)
    from_database = duckdb_rows(snapshot.arrow_snapshot(AS_OF), strategy)
    from_snapshot = duckdb_rows(source, strategy)

    assert len(on_spark) > 2000
    assert on_spark == from_database  # every feature, the score, the stage, the reasons, the arm
    assert from_snapshot == from_database
    assert {r["previous_stage"] for r in on_spark.values()} > {"none", "phone"}
    assert sum(r["risk_score"] is not None for r in on_spark.values()) > 300
    if connection.vendor == "postgresql":
        in_place = postgres_rows(strategy)
        assert in_place.keys() == on_spark.keys()
        different = {a: differences(r, on_spark[a]) for a, r in in_place.items()}
        assert {a: d for a, d in different.items() if d} == {}
    mismatched = []
    accounts = Account.objects.select_related("borrower__region").in_bulk(list(on_spark))
    for account_id, got in on_spark.items():
        row = queries.account_features_row(accounts[account_id], AS_OF, strategy)
        decision = decide(strategy, row)
        python = (decision.stage, ",".join(decision.triggers) or None,
                  ",".join(decision.blocked_by) or None, decision.reasons_en,
                  decision.reasons_zh, decision.arm)  # fmt: skip
        if differences(row, got) or python != tuple(got[k] for k in DECISION):
            mismatched.append((account_id, differences(row, got), python))
    assert mismatched == []


@pytest.mark.django_db(transaction=True)
def test_the_nightly_run_on_spark_writes_what_duckdb_writes(tmp_path, spark_session):
    """Two nights: the second reads the first's stages, plans on-entry actions and cancels the
    stale ones, from Spark's Parquet results loaded in bulk."""
    small_portfolio(tmp_path)
    tomorrow = AS_OF + timedelta(days=1)
    domain.run_nightly(AS_OF, by="test")
    domain.take_snapshot(tomorrow, out=tmp_path / "snap", by="test")

    result = domain.run_nightly(tomorrow, engine="spark", by="test", snapshot_dir=tmp_path / "snap")
    on_spark = state()
    engines = set(Decision.objects.filter(as_of=tomorrow).values_list("engine", flat=True))
    domain.run_nightly(tomorrow, by="test")

    assert on_spark == state()
    assert (result.engine, result.accounts, result.stages["home_visit"]) == ("spark", 4, 1)
    assert engines == {"spark"}
    assert NightlyRun.objects.get(pk=result.run_id).status == "done"
    entry = next(
        json.loads(e.data)
        for e in AuditEntry.objects.filter(code="nightly.completed")
        if json.loads(e.data)["engine"] == "spark"
    )
    assert entry["snapshot"]["directory"] == str(tmp_path / "snap")
    assert entry["accounts"] == 4
    assert not any((tmp_path / "snap" / "results").iterdir())  # loaded, then removed


@pytest.mark.django_db
def test_the_arm_hash_is_the_same_on_spark_duckdb_and_in_python(spark_session):
    """md5's first 32 bits read as unsigned on every engine, including digests whose top bit is
    set (a signed reading would send those to other arms)."""
    ids = [f"{n:08d}" for n in range(0, 3000, 7)] + ["E1-0", "ÄÖ-9", "x" * 40]
    assert any(int(hashlib.md5(i.encode()).hexdigest()[0], 16) >= 8 for i in ids)  # noqa: S324
    spark_session.createDataFrame(pa.table({"account_id": ids})).createOrReplaceTempView("ids")
    spark_sql = f"SELECT account_id, {arm_bucket_sql('account_id', 'spark')} FROM ids"  # noqa: S608
    on_spark = dict(spark_session.sql(spark_sql).collect())
    db = duckdb.connect()
    db.register("ids", pa.table({"account_id": ids}))
    duckdb_sql = f"SELECT account_id, {arm_bucket_sql('account_id', 'duckdb')} FROM ids"  # noqa: S608
    on_duckdb = dict(db.execute(duckdb_sql).fetchall())

    assert on_spark == on_duckdb == {i: queries.arm_bucket(i) for i in ids}
