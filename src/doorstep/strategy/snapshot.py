"""The snapshot the nightly run reads: the ledger, contacts, holds and previous decisions as of a
date, as the relations `engine.featuresql` names.

Two ways to get it. PostgreSQL in place: the relations become CTEs over the live tables
(`source_ctes`). Anywhere else: the same queries stream out through ADBC as Arrow tables
(`arrow_snapshot`), which DuckDB reads without copying. DuckDB's own sqlite/postgres scanners are
extensions it downloads at run time, which these machines and many lenders cannot; ADBC drivers
ship as wheels.
"""

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from queue import Empty, Queue

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.db import connection

from doorstep.arrowdb import adbc_connect, epoch_seconds_sql
from doorstep.ledger.engine.positions import CHARGE_KINDS, CREDIT_KINDS
from doorstep.ledger.models import Region
from doorstep.strategy.engine.account import day_end_epoch
from doorstep.strategy.engine.featuresql import sql_list

# An account settled this long before the as-of date gets no decision: it left collections.
SETTLED_LOOKBACK_DAYS = 35


def day_ends(as_of: date) -> dict[str, tuple[str, int]]:
    """Per region: coverage and the epoch second at which `as_of` ends in its time zone."""
    return {
        code: (coverage, day_end_epoch(as_of, tz))
        for code, coverage, tz in Region.objects.values_list("code", "field_coverage", "time_zone")
    }


def source_queries(as_of: date, vendor: str) -> dict[str, str]:
    """SQL for each snapshot relation on the live database (`vendor`: sqlite | postgresql).

    Values that may be NULL are coalesced to a sentinel ('' or 0) and restored by the reader:
    ADBC's SQLite driver infers a column's type from its first rows, and NULLs there mislead it.
    """
    d = f"'{as_of.isoformat()}'"
    if vendor == "postgresql":
        d = f"DATE {d}"
        text = "CAST({} AS TEXT)"
        settled_after = f"{d} - {SETTLED_LOOKBACK_DAYS}"
    else:
        text = "{}"
        settled_after = f"date({d}, '-{SETTLED_LOOKBACK_DAYS} days')"
    epoch = epoch_seconds_sql("at", vendor)
    # Only identity matters (a promise is counted once): SQLite's integer rowid reads faster
    # than the 40-character id.
    contact_id = "rowid" if vendor == "sqlite" else "id"
    return {
        "accounts": f"""
            SELECT a.id AS account_id, a.product, b.region_id AS region_code,
                   CASE WHEN a.auto_debit THEN 1 ELSE 0 END AS auto_debit
            FROM ledger_account a JOIN ledger_borrower b ON b.id = a.borrower_id
            WHERE a.opened_on <= {d}
              AND (a.settled_on IS NULL OR a.settled_on >= {settled_after})""",
        "instalments": """
            SELECT account_id, seq, due_date, cumulative_cents FROM ledger_instalment""",
        "entries": f"""
            SELECT e.account_id, e.kind, e.amount_cents, e.effective_on, COALESCE(i.seq, 0) AS seq
            FROM ledger_ledgerentry e LEFT JOIN ledger_instalment i ON i.id = e.instalment_id
            WHERE e.effective_on <= {d}""",
        "contacts": f"""
            SELECT {contact_id} AS contact_id, account_id, {epoch} AS at_epoch, channel, outcome,
                   COALESCE(ptp_amount_cents, 0) AS ptp_amount_cents,
                   COALESCE({text.format("ptp_date")}, '') AS ptp_date
            FROM contact_contact""",
        "holds": f"""
            SELECT account_id, kind, since, COALESCE({text.format("until")}, '') AS until
            FROM ledger_hold WHERE since <= {d}""",
        "previous": f"""
            SELECT account_id, stage FROM (
                SELECT account_id, stage,
                       ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY as_of DESC) AS n
                FROM strategy_decision
                WHERE as_of < {d}
                  AND as_of >= (SELECT MAX(as_of) FROM strategy_decision WHERE as_of < {d})
            ) latest WHERE n = 1""",
    }


# How each relation is read back with its real types (DuckDB and PostgreSQL agree on these).
def _text(*names: str) -> str:
    return ", ".join(f"CAST({n} AS VARCHAR) AS {n}" for n in names)


# How each relation is read back with its real types (DuckDB and PostgreSQL agree on these). Text
# is cast too: an empty Arrow column read through ADBC has no type of its own.
TYPED = {
    "accounts": f"{_text('account_id', 'product', 'region_code')}, "
    "CAST(auto_debit AS INTEGER) = 1 AS auto_debit",
    "instalments": f"{_text('account_id')}, CAST(seq AS INTEGER) AS seq, "
    "CAST(due_date AS DATE) AS due_date, CAST(cumulative_cents AS BIGINT) AS cumulative_cents",
    "entries": f"{_text('account_id', 'kind')}, CAST(amount_cents AS BIGINT) AS amount_cents, "
    "CAST(effective_on AS DATE) AS effective_on, CAST(NULLIF(CAST(seq AS INTEGER), 0) AS INTEGER) AS seq",
    "contacts": f"{_text('contact_id', 'account_id')}, CAST(at_epoch AS BIGINT) AS at_epoch, "
    f"{_text('channel', 'outcome')}, "
    "CAST(NULLIF(CAST(ptp_amount_cents AS BIGINT), 0) AS BIGINT) AS ptp_amount_cents, "
    "CAST(NULLIF(CAST(ptp_date AS VARCHAR), '') AS DATE) AS ptp_date",
    "holds": f"{_text('account_id', 'kind')}, CAST(since AS DATE) AS since, "
    "CAST(NULLIF(CAST(until AS VARCHAR), '') AS DATE) AS until",
    "previous": _text("account_id", "stage"),
}


def regions_values_sql(as_of: date) -> str:
    rows = ", ".join(
        f"('{code}', '{coverage}', {end})"
        for code, (coverage, end) in sorted(day_ends(as_of).items())
    )
    return f"SELECT * FROM (VALUES {rows}) AS v(region_code, coverage, day_end)"


def source_ctes(as_of: date) -> str:
    """The snapshot relations as CTEs over PostgreSQL's live tables, for the in-place engine,
    and `ledger_stream` (`ledger_stream_sql`)."""
    queries = source_queries(as_of, "postgresql")
    parts = [f"regions AS ({regions_values_sql(as_of)})"]
    for name, sql in queries.items():
        # Inlined, not materialized: the planner then sees the real tables and their statistics
        # (a materialized CTE is estimated at 200 rows, which sent it into nested loops).
        parts.append(f"{name}_raw AS NOT MATERIALIZED ({sql})")
        parts.append(f"{name} AS NOT MATERIALIZED (SELECT {TYPED[name]} FROM {name}_raw)")
    parts.append(f"ledger_stream AS NOT MATERIALIZED ({ledger_stream_sql(as_of)})")
    return ",\n".join(parts)


def ledger_stream_sql(as_of: date) -> str:
    """PostgreSQL: every account's credits, charges and instalments as one relation
    (account_id, day, credit, charge, cumulative) for `featuresql.ledger_pass_sql`.

    Written against the tables, every branch with exactly the same column types, so that the
    planner flattens the UNION ALL and can merge the instalments' (account_id, due_date) index
    with the sorted entries instead of sorting 19M rows at a million accounts. A charge is placed
    on its instalment's due date."""
    d = f"DATE '{as_of.isoformat()}'"
    zero, none = "CAST(0 AS BIGINT)", "CAST(NULL AS BIGINT)"
    return f"""
            SELECT account_id, effective_on AS day, amount_cents AS credit, {zero} AS charge,
                   {none} AS cumulative
            FROM ledger_ledgerentry
            WHERE kind IN ({sql_list(CREDIT_KINDS)}) AND effective_on <= {d}
            UNION ALL
            SELECT e.account_id, i.due_date, {zero}, e.amount_cents, {none}
            FROM ledger_ledgerentry e JOIN ledger_instalment i ON i.id = e.instalment_id
            WHERE e.kind IN ({sql_list(CHARGE_KINDS)}) AND e.effective_on <= {d}
            UNION ALL
            SELECT account_id, due_date, {zero}, {zero}, cumulative_cents FROM ledger_instalment"""


def regions_table(as_of: date) -> pa.Table:
    ends = sorted(day_ends(as_of).items())
    return pa.table(
        {
            "region_code": [code for code, _ in ends],
            "coverage": [coverage for _, (coverage, _) in ends],
            "day_end": pa.array([end for _, (_, end) in ends], pa.int64()),
        }
    )


# The snapshot's reads, costliest first, shared out between this many connections (DuckDB's
# threads, which wait for them).
READERS = 2
COSTLIEST_FIRST = ("instalments", "entries", "contacts", "accounts", "holds", "previous")


def history_accounts_sql(as_of: date, vendor: str) -> str:
    """Every account opened by `as_of`, settled or not, with its opening and settlement dates:
    the account-months of the score's training history (`strategy.history`) need the accounts
    that were in the book then, which the nightly snapshot's accounts are not."""
    d = f"DATE '{as_of.isoformat()}'" if vendor == "postgresql" else f"'{as_of.isoformat()}'"
    text = "CAST({} AS TEXT)" if vendor == "postgresql" else "{}"
    return f"""
        SELECT a.id AS account_id, a.product, b.region_id AS region_code,
               CASE WHEN a.auto_debit THEN 1 ELSE 0 END AS auto_debit,
               {text.format("a.opened_on")} AS opened_on,
               COALESCE({text.format("a.settled_on")}, '') AS settled_on
        FROM ledger_account a JOIN ledger_borrower b ON b.id = a.borrower_id
        WHERE a.opened_on <= {d}"""


HISTORY_ACCOUNTS_TYPED = (
    f"{TYPED['accounts']}, CAST(opened_on AS DATE) AS opened_on, "
    "CAST(NULLIF(CAST(settled_on AS VARCHAR), '') AS DATE) AS settled_on"
)


def arrow_snapshot(as_of: date, *, history: bool = False) -> dict[str, pa.Table]:
    """Every snapshot relation as an Arrow table, read through ADBC (types restored by `TYPED`).
    With `history`, `accounts` is every account opened by `as_of` with its opening and settlement
    dates (`history_accounts_sql`; typed by HISTORY_ACCOUNTS_TYPED) and `previous` is left out.

    The relations are read in parallel on `READERS` connections that all see the same committed
    state, as one connection would (`_read_in_parallel`; on SQLite writers wait for a few
    milliseconds only).
    """
    queries = source_queries(as_of, connection.vendor)
    if history:
        queries["accounts"] = history_accounts_sql(as_of, connection.vendor)
        del queries["previous"]
    tables = {"regions": regions_table(as_of)}

    def read(cursor, name: str) -> None:
        cursor.execute(queries[name])
        tables[name] = cursor.fetch_arrow_table()

    _read_in_parallel(queries, read)
    return tables


def _read_in_parallel(queries: dict[str, str], handle) -> None:
    """`handle(cursor, name)` for every relation of `queries`, costliest first, shared between
    `READERS` ADBC connections whose transactions all see one committed state (SQLite: started
    under one write lock; PostgreSQL: one exported snapshot)."""
    pending = Queue()
    for name in sorted(queries, key=COSTLIEST_FIRST.index):
        pending.put(name)

    def drain(adbc) -> None:
        with adbc.cursor() as cursor:
            while True:
                try:
                    name = pending.get_nowait()
                except Empty:
                    return
                handle(cursor, name)

    with ExitStack() as stack:
        readers = [stack.enter_context(adbc_connect()) for _ in range(READERS)]
        if connection.vendor == "sqlite":
            _pin_one_state(readers)
        else:
            _pin_one_postgres_state(readers)
        with ThreadPoolExecutor(READERS) as pool:
            for done in [pool.submit(drain, adbc) for adbc in readers]:
                done.result()


def _pin_one_state(readers) -> None:
    """Start every reader's transaction on the same commit (SQLite, WAL): no writer can commit
    while `lock` holds the write lock."""
    import adbc_driver_sqlite.dbapi

    path = str(connection.settings_dict["NAME"])
    with adbc_driver_sqlite.dbapi.connect(path, autocommit=True) as lock, lock.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("BEGIN IMMEDIATE")
        try:
            for adbc in readers:
                with adbc.cursor() as reader:
                    reader.execute("SELECT COUNT(*) FROM sqlite_schema")
                    reader.fetchall()
        finally:
            cursor.execute("ROLLBACK")


# --- the Parquet snapshot ----------------------------------------------------------------------
#
# The same relations, typed, as Parquet files in a directory with a manifest: what an engine that
# cannot reach the database reads (Spark; DuckDB too, `nightly --snapshot DIR`). Written as a
# stream of record batches, so the writer's memory does not grow with the portfolio.

FORMAT = "doorstep.snapshot"
SCHEMA_VERSION = 1
MANIFEST = "snapshot.json"
# Rows per record batch and Parquet row group.
BATCH_ROWS = 131_072

_string, _date, _int, _bigint = pa.string(), pa.date32(), pa.int32(), pa.int64()


def _schema(**columns: pa.DataType) -> pa.Schema:
    return pa.schema(list(columns.items()))


# Every relation as `TYPED` (and `regions_table`) types it; the files must hold exactly these.
SCHEMA = {
    "regions": _schema(region_code=_string, coverage=_string, day_end=_bigint),
    "accounts": _schema(
        account_id=_string, product=_string, region_code=_string, auto_debit=pa.bool_()
    ),
    "instalments": _schema(account_id=_string, seq=_int, due_date=_date, cumulative_cents=_bigint),
    "entries": _schema(
        account_id=_string, kind=_string, amount_cents=_bigint, effective_on=_date, seq=_int
    ),
    "contacts": _schema(
        contact_id=_string,
        account_id=_string,
        at_epoch=_bigint,
        channel=_string,
        outcome=_string,
        ptp_amount_cents=_bigint,
        ptp_date=_date,
    ),
    "holds": _schema(account_id=_string, kind=_string, since=_date, until=_date),
    "previous": _schema(account_id=_string, stage=_string),
}


class SnapshotInvalid(Exception):
    """A snapshot directory that cannot be read as the night's input: a user-safe message and a
    stable code (snapshot.missing, .manifest, .version, .as_of, .table, .schema, .rows, .stale,
    .not_empty)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ParquetSnapshot:
    directory: Path
    as_of: date
    created_at: str
    rows: dict[str, int]

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.parquet"

    def described(self) -> dict:
        return {"directory": str(self.directory), "created_at": self.created_at}


def write_parquet_snapshot(as_of: date, out: Path, *, at: datetime) -> ParquetSnapshot:
    """Write every relation of `as_of` under `out` as `NAME.parquet`, then `snapshot.json`.

    The manifest goes last and an older one is removed first, so a directory holds either a
    whole snapshot or none that opens. The relations are read on `READERS` connections that all
    see one committed state, as `arrow_snapshot` does, each streamed from ADBC through DuckDB (for
    `TYPED`) into its file.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise SnapshotInvalid(
            f"{out} is not empty and holds no snapshot: choose an empty directory",
            code="snapshot.not_empty",
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    queries = source_queries(as_of, connection.vendor)
    rows = {"regions": _write_table(regions_table(as_of), out / "regions.parquet")}

    def write(cursor, name: str) -> None:
        cursor.execute(queries[name])
        rows[name] = _stream_typed(name, cursor.fetch_record_batch(), out)

    _read_in_parallel(queries, write)
    manifest = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "as_of": as_of.isoformat(),
        "created_at": at.isoformat(),
        "database": connection.vendor,
        "tables": {
            name: {
                "file": f"{name}.parquet",
                "rows": rows[name],
                "columns": {f.name: str(f.type) for f in schema},
            }
            for name, schema in SCHEMA.items()
        },
    }
    partial = out / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    partial.replace(out / MANIFEST)
    return ParquetSnapshot(out, as_of, manifest["created_at"], rows)


def _stream_typed(name: str, source: pa.RecordBatchReader, out: Path) -> int:
    with duckdb.connect() as duck:
        duck.execute("SET threads = 1")
        duck.register(f"{name}_raw", source)
        typed = duck.sql(f"SELECT {TYPED[name]} FROM {name}_raw").to_arrow_reader(BATCH_ROWS)
        return _write_batches(typed, SCHEMA[name], out / f"{name}.parquet")


def _write_table(table: pa.Table, path: Path) -> int:
    return _write_batches(table.to_reader(), SCHEMA[path.stem], path)


def _write_batches(batches, schema: pa.Schema, path: Path) -> int:
    rows = 0
    partial = path.with_name(path.name + ".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        for batch in batches:
            writer.write_batch(batch.cast(schema))
            rows += batch.num_rows
    partial.replace(path)
    return rows


def open_parquet_snapshot(directory: Path, *, as_of: date | None = None) -> ParquetSnapshot:
    """The snapshot in `directory`, checked before any engine reads it: its manifest, format
    version and date, and for every relation a file with the declared columns and row count.
    Raises SnapshotInvalid naming the first problem."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise SnapshotInvalid(
            f"no snapshot in {directory} ({MANIFEST} is missing): write one with "
            "`doorstep snapshot --as-of DATE --out DIR`",
            code="snapshot.missing",
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        found_as_of = date.fromisoformat(manifest["as_of"])
        version, tables = manifest["schema_version"], manifest["tables"]
        created_at = manifest["created_at"]
    except (ValueError, KeyError, TypeError) as error:
        raise SnapshotInvalid(
            f"{manifest_path} is not a snapshot manifest ({error})", code="snapshot.manifest"
        ) from None
    if manifest.get("format") != FORMAT or version != SCHEMA_VERSION:
        raise SnapshotInvalid(
            f"{manifest_path}: snapshot format {manifest.get('format')} version {version}; this "
            f"doorstep reads {FORMAT} version {SCHEMA_VERSION}: write the snapshot again",
            code="snapshot.version",
        )
    if as_of is not None and found_as_of != as_of:
        raise SnapshotInvalid(
            f"the snapshot in {directory} is as of {found_as_of}, not {as_of}",
            code="snapshot.as_of",
        )
    rows = {}
    for name, schema in SCHEMA.items():
        path = directory / f"{name}.parquet"
        if name not in tables or not path.is_file():
            raise SnapshotInvalid(
                f"the snapshot in {directory} has no {name}.parquet", code="snapshot.table"
            )
        try:
            metadata = pq.read_metadata(path)
            found = metadata.schema.to_arrow_schema()
        except (OSError, pa.ArrowException) as error:
            raise SnapshotInvalid(
                f"{path} cannot be read: {error}", code="snapshot.table"
            ) from None
        if [(f.name, f.type) for f in found] != [(f.name, f.type) for f in schema]:
            raise SnapshotInvalid(
                f"{path} has columns ({_columns(found)}), not ({_columns(schema)})",
                code="snapshot.schema",
            )
        if metadata.num_rows != tables[name].get("rows"):
            raise SnapshotInvalid(
                f"{path} holds {metadata.num_rows:,} rows; the manifest says "
                f"{tables[name].get('rows')}",
                code="snapshot.rows",
            )
        rows[name] = metadata.num_rows
    return ParquetSnapshot(directory, found_as_of, created_at, rows)


def _columns(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name} {f.type}" for f in schema)


def _pin_one_postgres_state(readers) -> None:
    """Every reader in one REPEATABLE READ transaction on the first one's exported snapshot, so
    the relations agree with each other (PostgreSQL's snapshot synchronisation)."""
    exported = None
    for adbc in readers:
        with adbc.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if exported is None:
                cursor.execute("SELECT pg_export_snapshot()")
                exported = cursor.fetchone()[0]
            else:
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{exported}'")
