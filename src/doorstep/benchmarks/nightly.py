"""doorstep bench nightly --accounts N [--engine duckdb|postgres|spark]: the nightly strategy run and one-account re-evaluation.

Generates N accounts (as `bench ledger` does, and sharing its files), loads them into a database
with one day of charges assessed, and keeps that database under var/bench (SQLite: a file;
PostgreSQL: a database named after N and the seed) so that re-runs skip the import. Each run then
works on a copy of it, in a process of its own: `run_nightly` timed end to end (snapshot, features,
decisions, written), then `reevaluate_account` on a random sample of accounts, each call in its
own transaction and timed. `--engine duckdb` runs on SQLite (the embedded default); `--engine
postgres` runs in place on the PostgreSQL that DATABASE_URL names; `--engine spark` runs on SQLite's
copy too, over a Parquet snapshot written from it first (`--parquet` does the same for DuckDB): the
snapshot's writing is timed apart (`snapshot_seconds`), the night over it is `seconds`, and the
Spark session's start (a JVM) is inside it, as a nightly process pays it. `--check` also compares every
account's features and decision three ways (DuckDB, the Python twin and, on PostgreSQL, the
in-place SQL) and counts the mismatches: run it at a few thousand accounts, not a million.
`--score` trains and activates the collection score on the public UCI table first (so the night
has its `score` phase; nothing when the table is absent) and then times scoring 1,000,000 rows.
"""

import argparse
import logging
import os
import random
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

import dj_database_url

from doorstep.benchmarks.ledger import (
    AS_OF,
    bench_dir,
    database_marked,
    generated_portfolio,
    postgres_admin,
    postgres_url,
    remove_sqlite,
    run_worker,
    with_database,
)

# Marks a cached PostgreSQL database whose load finished (COMMENT ON DATABASE).
LOADED = "doorstep bench nightly: loaded"
# Noon UTC of the as-of day is the as-of day in every region's time zone.
REEVALUATE_AT = datetime.combine(AS_OF, clock(12), tzinfo=UTC)


def add_arguments(parser) -> None:
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=["duckdb", "postgres", "spark"], default="duckdb")
    parser.add_argument(
        "--parquet",
        action="store_true",
        help="write a Parquet snapshot first (timed apart) and run the night over it (spark: always)",
    )
    parser.add_argument("--sample", type=int, default=1000, help="accounts re-evaluated one by one")
    parser.add_argument(
        "--check", action="store_true", help="also count SQL/Python and engine mismatches"
    )
    parser.add_argument("--reload", action="store_true", help="import again, ignoring the cache")
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="run on the cached database itself, not a copy, and delete it afterwards (at "
        "millions of accounts the copy is tens of GB and minutes of I/O)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --in-place: keep the database the night ran on (no longer marked loaded: the "
        "next run imports again), to run another engine over it by hand",
    )
    parser.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="csv",
        help="the generated portfolio's files (parquet: about a quarter of the disk at 10M)",
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="skip VACUUM after the import (SQLite's rewrites the whole file into a second copy: "
        "45 GB more at 10M accounts)",
    )
    parser.add_argument(
        "--score",
        action="store_true",
        help="train and activate the collection score on the public table first, and time "
        "scoring 1,000,000 rows alone",
    )
    parser.add_argument("--worker", choices=["load", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--portfolio", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--vacuum", choices=["yes", "no"], default="yes", help=argparse.SUPPRESS)


def run(options: dict, out) -> dict:
    if options.get("worker") == "load":
        return _load(options["portfolio"], vacuum=options.get("vacuum", "yes") == "yes")
    if options.get("worker") == "measure":
        return _measure(options)
    accounts, seed, engine = options["accounts"], options["seed"], options["engine"]
    fmt = options.get("format", "csv")
    load = Load(
        # Generated only when a database must be loaded: a cached one needs no files.
        portfolio=lambda: generated_portfolio(accounts, seed, fmt, out, {}),
        arguments=["--vacuum", "no" if options.get("no_vacuum") else "yes"],
    )
    measure = ["nightly", "--worker", "measure", "--engine", engine, "--seed", str(seed)]
    measure += ["--sample", str(options["sample"])] + (["--check"] if options["check"] else [])
    measure += ["--score"] if options["score"] else []
    measure += ["--parquet"] if options["parquet"] or engine == "spark" else []
    if engine in ("duckdb", "spark"):
        figures = _on_sqlite(
            accounts, seed, load, options["reload"], measure, engine, out,
            in_place=options.get("in_place", False), keep=options.get("keep", False),
        )  # fmt: skip
    else:
        figures = _on_postgres(
            accounts, seed, load, options["reload"], measure, out,
            in_place=options.get("in_place", False), keep=options.get("keep", False),
        )  # fmt: skip
    out(_describe(figures))
    return figures


@dataclass(frozen=True)
class Load:
    """How a bench database is loaded: the portfolio's directory (made on first use) and the
    load worker's extra arguments."""

    portfolio: Callable[[], Path]
    arguments: list[str]

    def worker(self) -> list[str]:
        return [
            "nightly",
            "--worker",
            "load",
            "--portfolio",
            str(self.portfolio()),
            *self.arguments,
        ]


def _on_sqlite(accounts, seed, load, reload, measure, engine, out, *, in_place, keep) -> dict:
    cache = bench_dir() / f"nightly-{accounts}-{seed}.sqlite3"
    marker = cache.with_name(cache.name + ".complete")
    loaded = marker.exists() and cache.exists() and not reload
    if loaded:
        out(f"using the loaded database {cache} (import skipped; --reload to import again)")
    else:
        marker.unlink(missing_ok=True)
        remove_sqlite(cache)
        worker = load.worker()
        out(f"importing {accounts:,} accounts into {cache} (kept for re-runs) …")
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{cache}")
        loaded_in = run_worker("sqlite", worker, env)
        out(f"  imported in {loaded_in['load_seconds']:.0f} s")
        marker.touch()
    if in_place:
        # The night changes the database: it is no longer the loaded one, so it goes.
        work = cache
        marker.unlink()
        then = "kept afterwards, not marked loaded" if keep else "deleted afterwards"
        out(f"nightly run and re-evaluation in place on {cache} ({then}) …")
    else:
        work = bench_dir() / f"nightly-run-{os.getpid()}.sqlite3"
        remove_sqlite(work)
        shutil.copyfile(cache, work)
        # On disk before the clock starts: the copy's write-back (GBs at a million accounts) took
        # the timed snapshot from 9 to 12-14 s while it ran beside it.
        descriptor = os.open(work, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        out("nightly run and re-evaluation on a copy …")
    try:
        env = dict(os.environ, DATABASE_URL=f"sqlite:///{work}")
        figures = run_worker(engine, measure, env)
    finally:
        if not (in_place and keep):
            remove_sqlite(work)
    return {**figures, "database_cached": loaded, "in_place": in_place}


def _on_postgres(accounts, seed, load, reload, measure, out, *, in_place, keep) -> dict:
    from django.core.management.base import CommandError

    url = postgres_url()
    if url is None:
        raise CommandError("--engine postgres needs DATABASE_URL naming a PostgreSQL server")
    base = dj_database_url.parse(url)["NAME"]
    cache, work = f"{base}_bench_nightly_{accounts}_{seed}", f"{base}_bench_nightly_{os.getpid()}"
    with postgres_admin(url) as admin:
        loaded = database_marked(admin, cache, LOADED) and not reload
        if loaded:
            out(f"using the loaded database {cache} (import skipped; --reload to import again)")
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{cache}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{cache}"')
            worker = load.worker()
            out(f"importing {accounts:,} accounts into database {cache} (kept for re-runs) …")
            env = dict(os.environ, DATABASE_URL=with_database(url, cache))
            loaded_in = run_worker("postgres", worker, env)
            out(f"  imported in {loaded_in['load_seconds']:.0f} s")
            admin.execute(f"COMMENT ON DATABASE \"{cache}\" IS '{LOADED}'")
        if in_place:
            # The night changes the database: it is no longer the loaded one.
            work = cache
            admin.execute(f'COMMENT ON DATABASE "{cache}" IS NULL')
            then = "kept afterwards, not marked loaded" if keep else "dropped afterwards"
            out(f"nightly run and re-evaluation in place on {cache} itself ({then}) …")
        else:
            admin.execute(f'CREATE DATABASE "{work}" TEMPLATE "{cache}" STRATEGY FILE_COPY')
            out(f"nightly run and re-evaluation in place on a copy ({work}) …")
        try:
            env = dict(os.environ, DATABASE_URL=with_database(url, work))
            figures = run_worker("postgres", measure, env)
        finally:
            if not (in_place and keep):
                admin.execute(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
    return {**figures, "database_cached": loaded, "in_place": in_place}


def _describe(f: dict) -> str:
    phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in f["phases"].items())
    return (
        f"  {f['engine']}: nightly run over {f['accounts']:,} accounts in {f['seconds']:.2f} s = "
        f"{f['accounts_per_s']:,.0f} accounts/s ({phases}); re-evaluating one account: "
        f"p50 {f['single_account_p50_ms']:.1f} ms, p99 {f['single_account_p99_ms']:.1f} ms "
        f"over {f['single_account_samples']:,}"
        + (
            f" (at rest after a checkpoint: p50 {f['single_account_at_rest_p50_ms']:.1f} ms, "
            f"p99 {f['single_account_at_rest_p99_ms']:.1f} ms)"
            if "single_account_at_rest_p99_ms" in f
            else ""
        )
        + f"; peak memory {f['peak_rss_mb']:,} MB"
        + (
            f"; the Parquet snapshot it read was written in {f['snapshot_seconds']:.2f} s"
            if "snapshot_seconds" in f
            else ""
        )
        + (
            f"; scoring {f['scoring']['rows']:,} rows: predict "
            f"{f['scoring']['predict_rows_per_s']:,} rows/s, whole step "
            f"{f['scoring']['step_rows_per_s']:,} rows/s ({f['scoring']['threads']} threads)"
            if "scoring" in f
            else ""
        )
    )


# --- in the worker process --------------------------------------------------------------------


def _load(directory: Path, *, vacuum: bool = True) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from doorstep.intake.importer import import_portfolio
    from doorstep.ledger.domain import assess_charges

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    import_portfolio(directory, by="bench")
    # The nightly run meets charges on the schedule: the day's late fees and penalty interest.
    assess_charges(AS_OF, by="bench", at=REEVALUATE_AT)
    with connection.cursor() as cursor:
        if vacuum:
            cursor.execute("VACUUM" if connection.vendor == "sqlite" else "VACUUM (ANALYZE)")
        cursor.execute("ANALYZE")
    return {"load_seconds": round(time.perf_counter() - started, 1)}


class _Phases(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}
        self.steps: dict[str, float] = {}  # inside a phase: the screen's reads, check, record

    def emit(self, record):
        for attribute, figures in (("phase", self.seconds), ("step", self.steps)):
            if hasattr(record, attribute):
                name = getattr(record, attribute)
                figures[name] = round(figures.get(name, 0) + record.seconds, 3)


def _measure(options: dict) -> dict:
    from django.core.management import call_command

    from doorstep.compliance import domain as compliance
    from doorstep.compliance.domain import review_template
    from doorstep.contact.domain import draft_default_templates
    from doorstep.ledger.models import Account
    from doorstep.strategy import domain, screening

    # A cached database may predate the newest migrations, and a lender sends approved templates
    # (neither timed; both no-ops when done).
    call_command("migrate", interactive=False, verbosity=0)
    for template in draft_default_templates(by="bench-writer"):
        review_template(template.pk, by="bench-compliance", approve=True)
    model = _activate_public_model() if options["score"] else None
    phases = _Phases()
    loggers = [logging.getLogger(name) for name in (domain.__name__, screening.__name__,
                                                   compliance.__name__)]  # fmt: skip
    for logger in loggers:
        logger.addHandler(phases)
        logger.setLevel(logging.INFO)
    snapshot_dir, snapshot_seconds = None, None
    try:
        if options["parquet"]:
            snapshot_dir = bench_dir() / f"snapshot-{os.getpid()}"
            shutil.rmtree(snapshot_dir, ignore_errors=True)
            started = time.perf_counter()
            domain.take_snapshot(AS_OF, out=snapshot_dir, by="bench")
            snapshot_seconds = round(time.perf_counter() - started, 3)
        result = domain.run_nightly(
            AS_OF, engine=options["engine"], by="bench", snapshot_dir=snapshot_dir
        )
    finally:
        for logger in loggers:
            logger.removeHandler(phases)
        if snapshot_dir is not None:
            shutil.rmtree(snapshot_dir, ignore_errors=True)
    nightly_rss = _peak_rss_mb()

    ids = sorted(Account.objects.values_list("id", flat=True))
    sample = random.Random(options["seed"]).sample(ids, min(options["sample"], len(ids)))  # noqa: S311
    domain.reevaluate_account(sample[0], at=REEVALUATE_AT, by="bench")  # warm-up, not counted
    timings = _reevaluations(domain, sample)
    percentiles = statistics.quantiles(timings, n=100, method="inclusive")
    # Again on the database at rest: right after the night, PostgreSQL is still writing out the
    # gigabytes it changed (checkpoint), and every commit's WAL flush waits behind it.
    _checkpoint()
    others = set(sample)
    at_rest = _reevaluations(
        domain,
        random.Random(options["seed"] + 1).sample(  # noqa: S311
            [i for i in ids if i not in others], min(options["sample"], len(ids) - len(others))
        ),
    )
    figures = {
        "engine": result.engine,
        "accounts": result.accounts,
        "seconds": result.seconds,
        "accounts_per_s": round(result.accounts / result.seconds),
        "single_account_p50_ms": round(statistics.median(timings), 2),
        "single_account_p99_ms": round(percentiles[98], 2),
        "single_account_samples": len(timings),
        **(
            {
                "single_account_at_rest_p50_ms": round(statistics.median(at_rest), 2),
                "single_account_at_rest_p99_ms": round(
                    statistics.quantiles(at_rest, n=100, method="inclusive")[98], 2
                ),
            }
            if len(at_rest) >= 2
            else {}
        ),
        "phases": phases.seconds,
        "screen_steps": phases.steps,
        "actions": result.actions,
        "stages": result.stages,
        "peak_rss_mb": nightly_rss,
        **({"snapshot_seconds": snapshot_seconds} if snapshot_seconds is not None else {}),
    }
    if model is not None:
        figures["scoring"] = _scoring_throughput(model)
    if options["check"]:
        figures["mismatches"] = _mismatches(options["engine"])
    return figures


def _reevaluations(domain, accounts) -> list[float]:
    """Milliseconds of `reevaluate_account` for each account, each in its own transaction."""
    timings = []
    for account_id in accounts:
        started = time.perf_counter()
        domain.reevaluate_account(account_id, at=REEVALUATE_AT, by="bench")
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _checkpoint() -> None:
    """Write out what the night changed (PostgreSQL: CHECKPOINT; SQLite: the WAL into the file)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


SCORING_ROWS = 1_000_000


def _activate_public_model():
    """Train the shipped recipe on the public table (when ../shared has it) and activate it, so
    that the night scores its accounts in collections. None without the table."""
    from django.utils import timezone

    from doorstep.scoring import domain as scoring

    if not scoring.public_csv().exists():
        return None
    row = scoring.train_public_model(scoring.public_csv(), by="bench", at=timezone.now())
    return scoring.activate_model(row.version, by="bench", at=timezone.now())


def _scoring_throughput(row) -> dict:
    """Rows per second of the score alone on 1,000,000 accounts (the public table's inputs
    repeated): the booster's predict, and the whole step (features, predict, bands, recovery)."""
    import numpy as np
    from django.conf import settings

    from doorstep.scoring import domain as scoring
    from doorstep.scoring.engine import features

    public = scoring.read_public_data(scoring.public_csv())
    repeat = -(-SCORING_ROWS // len(public.labels))
    inputs = {k: np.tile(v, repeat)[:SCORING_ROWS] for k, v in public.inputs.items()}
    model = scoring.load_model(row)
    threads = settings.DOORSTEP_SCORING["threads"]
    started = time.perf_counter()
    matrix = features.model_matrix(inputs)
    matrix_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.predict(matrix, threads=threads)
    predict_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scoring.score_inputs(row, inputs)
    step_seconds = time.perf_counter() - started
    return {
        "model": row.version,
        "rows": SCORING_ROWS,
        "threads": threads,
        "features_seconds": round(matrix_seconds, 3),
        "predict_rows_per_s": round(SCORING_ROWS / predict_seconds),
        "step_rows_per_s": round(SCORING_ROWS / step_seconds),
    }


def _peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


DECISION_FIELDS = ("stage", "previous_stage", "triggers", "blocked_by", "reasons_en", "reasons_zh")


def _mismatches(engine: str) -> dict:
    """Every account's features and decision: DuckDB against the Python twin and, on PostgreSQL,
    against the in-place SQL. Counts the accounts that differ in anything (first few printed)."""
    from django.db import connection, transaction

    from doorstep.ledger.models import Account
    from doorstep.scoring.domain import active_model
    from doorstep.strategy import domain, queries, snapshot
    from doorstep.strategy.engine.decide import decide, decisions_sql
    from doorstep.strategy.engine.featuresql import features_sql

    strategy = domain.compiled(domain.active_version())
    with domain.duckdb_decisions(AS_OF, strategy, snapshot.arrow_snapshot(AS_OF)) as db:
        relation = db.sql("SELECT * FROM dec ORDER BY account_id")
        names = relation.columns
        in_duckdb = {row[0]: dict(zip(names, row, strict=True)) for row in relation.fetchall()}
    counts: dict = {"accounts_compared": len(in_duckdb), "python": 0, "examples": []}
    accounts = Account.objects.select_related("borrower__region").in_bulk(list(in_duckdb))
    for account_id, sql_row in in_duckdb.items():
        row = queries.account_features_row(accounts[account_id], AS_OF, strategy)
        decision = decide(strategy, row)
        expected = {
            **row,
            **{name: getattr(decision, name) for name in DECISION_FIELDS},
            "triggers": ",".join(decision.triggers) or None,
            "blocked_by": ",".join(decision.blocked_by) or None,
        }
        counts["python"] += _differs("python", account_id, expected, sql_row, counts)
    if engine == "postgres":
        counts["postgres"] = 0
        sql = decisions_sql(strategy, "features", "postgres")
        features = features_sql(AS_OF, "postgres", sources=snapshot.source_ctes(AS_OF))
        model = active_model()
        with transaction.atomic(), connection.cursor() as cursor:
            # As the night does it: the features in a temp table, scored when a model is active.
            cursor.execute(f"CREATE TEMP TABLE nightly_features ON COMMIT DROP AS {features}")
            if model is not None:
                domain._score_in_postgres(cursor, model)
            cursor.execute(
                f"SELECT * FROM ({sql.replace('FROM features f', 'FROM nightly_features f')}) d "  # noqa: S608
                "ORDER BY account_id"
            )
            names = [c.name for c in cursor.description]
            in_place = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
        if in_place.keys() != in_duckdb.keys():
            counts["postgres"] += len(in_place.keys() ^ in_duckdb.keys())
        for account_id in in_place.keys() & in_duckdb.keys():
            counts["postgres"] += _differs(
                "postgres", account_id, in_place[account_id], in_duckdb[account_id], counts
            )
    return counts


def _differs(label: str, account_id: str, expected: dict, found: dict, counts: dict) -> int:
    """1 if a field both rows have differs; the first few differences go to counts["examples"]."""
    different = {
        name: [value, found[name]]
        for name, value in expected.items()
        if name in found and value != found[name]
    }
    if different and len(counts["examples"]) < 5:
        counts["examples"].append({"against": label, "account_id": account_id, **different})
    return 1 if different else 0
