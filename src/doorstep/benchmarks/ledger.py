"""doorstep bench ledger --accounts N: import rate and the set-based positions pass.

Generates N accounts (12 instalments each, the generator's payment behaviour), then for SQLite
and, when DATABASE_URL names one, PostgreSQL: a fresh database, `doorstep import` timed, the
one-statement DPD/overdue/outstanding pass over every account timed, and `ledger check` timed.
Each database runs in its own process so the figures do not disturb one another or your data.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dj_database_url

# A fixed past day: the figures do not move with the calendar, and no payment is in the future.
AS_OF = date(2026, 10, 31)


def add_arguments(parser) -> None:
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument(
        "--engine", choices=["all", "sqlite", "postgresql"], default="all",
        help="which databases (PostgreSQL only when DATABASE_URL names one)",
    )  # fmt: skip
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)


def run(options: dict, out) -> dict:
    if options.get("worker"):
        return _worker(options["worker"])
    accounts, seed, fmt = options["accounts"], options["seed"], options["format"]
    root = bench_dir()
    figures: dict = {"accounts": accounts, "instalments_per_account": 12, "format": fmt}
    directory = generated_portfolio(accounts, seed, fmt, out, figures)

    engines = {"sqlite": f"sqlite:///{root / 'bench-ledger.sqlite3'}"}
    configured = postgres_url()
    if configured:
        engines["postgresql"] = configured
    if options.get("engine", "all") != "all":
        engines = {k: v for k, v in engines.items() if k == options["engine"]}
    for engine, url in engines.items():
        out(f"{engine}: import and positions pass …")
        figures[engine] = _in_fresh_database(engine, url, directory)
        out(_describe(engine, figures[engine]))
    return figures


def bench_dir() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "bench"


def postgres_url() -> str | None:
    """DATABASE_URL when it names PostgreSQL (the bench makes its own databases beside it)."""
    configured = os.environ.get("DATABASE_URL", "")
    return configured if configured.startswith(("postgres://", "postgresql://")) else None


def generated_portfolio(accounts: int, seed: int, fmt: str, out, figures: dict) -> Path:
    """The portfolio of `accounts` accounts (12 instalments each) under var/bench, generated once
    per (accounts, seed, format) and kept; `figures` gets its row counts (and the generation
    time when it was generated now)."""
    from doorstep.synth import generate_portfolio

    directory = bench_dir() / f"ledger-{accounts}-{seed}-{fmt}"
    marker = directory / ".complete"
    if not marker.exists():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        out(f"generating {accounts:,} accounts (12 instalments each) into {directory} …")
        started = time.perf_counter()
        counts = generate_portfolio(
            directory, accounts=accounts, seed=seed, as_of=AS_OF, fmt=fmt, instalments=12
        )
        figures["generate_seconds"] = round(time.perf_counter() - started, 2)
        marker.write_text(json.dumps(counts.__dict__))
    figures["rows"] = json.loads(marker.read_text())
    return directory


def _describe(engine: str, f: dict) -> str:
    return (
        f"  {engine}: import {f['rows_imported']:,} rows in {f['import_seconds']:.1f} s = "
        f"{f['import_rows_per_second']:,.0f} rows/s; positions pass over {f['accounts']:,} accounts "
        f"in {f['positions_seconds']:.2f} s = {f['positions_accounts_per_second']:,.0f} accounts/s; "
        f"ledger check {f['check_seconds']:.1f} s; peak memory {f['peak_rss_mb']:,} MB"
        + (
            f"; positions pass after VACUUM {f['positions_seconds_after_vacuum']:.2f} s"
            if f.get("positions_seconds_after_vacuum") is not None
            else ""
        )
    )


def _in_fresh_database(engine: str, url: str, directory: Path) -> dict:
    env = dict(os.environ, DATABASE_URL=url)
    if engine == "sqlite":
        remove_sqlite(Path(dj_database_url.parse(url)["NAME"]))
        return run_worker(engine, ["ledger", "--worker", str(directory)], env)
    with postgres_admin(url) as admin:
        bench_db = f"{dj_database_url.parse(url)['NAME']}_bench_{os.getpid()}"
        admin.execute(f'CREATE DATABASE "{bench_db}"')
        try:
            env["DATABASE_URL"] = with_database(url, bench_db)
            return run_worker(engine, ["ledger", "--worker", str(directory)], env)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def postgres_admin(url: str):
    """An autocommit connection to the server's `postgres` database, to create and drop bench
    databases."""
    import psycopg

    parsed = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=parsed["HOST"] or None, port=parsed["PORT"] or None, user=parsed["USER"] or None,
        password=parsed["PASSWORD"] or None, dbname="postgres", autocommit=True,
    )  # fmt: skip
    try:
        yield admin
    finally:
        admin.close()


def database_marked(admin, name: str, mark: str) -> bool:
    """Whether the bench database `name` exists and carries `mark` as its comment: a cached
    database whose load finished (COMMENT ON DATABASE is its last step)."""
    comment = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
    ).fetchone()
    return comment is not None and comment[0] == mark


def run_worker(label: str, arguments: list[str], env: dict) -> dict:
    """`doorstep bench ARGUMENTS --json` in a process of its own; its last line, parsed."""
    try:
        completed = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "doorstep.cli", "bench", *arguments, "--json"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        return json.loads(completed.stdout.strip().splitlines()[-1])
    except subprocess.CalledProcessError as failed:
        raise RuntimeError(f"{label} benchmark failed:\n{failed.stderr[-4000:]}") from failed


def _worker(directory: Path) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from doorstep.intake.importer import import_portfolio
    from doorstep.ledger.domain import check_ledger
    from doorstep.ledger.queries import portfolio_positions_sql

    call_command("migrate", interactive=False, verbosity=0)
    result = import_portfolio(directory, by="bench")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM ledger_account")
        accounts = cursor.fetchone()[0]
        started = time.perf_counter()
        cursor.execute(
            f"CREATE TEMP TABLE bench_positions AS {portfolio_positions_sql()}",
            {"as_of": AS_OF},
        )
        positions_seconds = time.perf_counter() - started
        cursor.execute(
            "SELECT COUNT(*), SUM(overdue), SUM(CASE WHEN dpd > 0 THEN 1 ELSE 0 END) FROM bench_positions"
        )
        counted, overdue, delinquent = cursor.fetchone()
    vacuumed_seconds = None
    if connection.vendor == "postgresql":
        # Steady state: what the nightly run meets once autovacuum has passed after a load.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
            started = time.perf_counter()
            cursor.execute(
                f"CREATE TEMP TABLE bench_positions_2 AS {portfolio_positions_sql()}",
                {"as_of": AS_OF},
            )
            vacuumed_seconds = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    _, differences = check_ledger()
    check_seconds = time.perf_counter() - started
    return {
        "engine": connection.vendor,
        "accounts": accounts,
        "rows_imported": result.total_read,
        "import_seconds": round(result.seconds, 2),
        "import_rows_per_second": round(result.total_read / result.seconds),
        # Where the import's time goes: each file from its first batch read to its last written,
        # and the whole-import checks and projection after the last file.
        "import_seconds_by_file": {
            name: round(seconds, 2) for name, seconds in result.seconds_by_file.items()
        },
        "positions_seconds": round(positions_seconds, 3),
        "positions_accounts_per_second": round(counted / positions_seconds),
        "positions_seconds_after_vacuum": vacuumed_seconds,
        "delinquent_accounts": int(delinquent),
        "overdue_total_cents": int(overdue),
        "check_seconds": round(check_seconds, 2),
        "check_differences": len(differences),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
