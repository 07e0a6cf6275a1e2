"""`doorstep import DIR`: a lender's portfolio files into the ledger, all or nothing.

The whole import is one transaction. Each file streams through in batches: checked and typed in
Arrow (`reading`), staged into a temporary table, checked against the database in SQL (unknown
references, a key already present with different content), then upserted. If any problem was found
anywhere the transaction is rolled back, so nothing is written, and every problem is reported.

Re-importing the same files changes nothing: rows are upserted by their id, payments are
deduplicated by payment_id, and facts that must not change (a payment, a schedule line, a contact,
an account's principal) are compared, not overwritten.
"""

import hashlib
import io
import itertools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from doorstep.intake import reading
from doorstep.intake.formats import BY_NAME, FORMATS
from doorstep.ledger import privacy
from doorstep.ledger.domain import projection_sql
from doorstep.sqlite.base import checkpoints_paused

logger = logging.getLogger(__name__)

ORDER = [f.name for f in FORMATS]
# The tables an import fills. When one is empty at the start (a first load), its secondary
# (non-unique) indexes are built after the load rather than maintained during it, and on
# PostgreSQL its foreign keys are re-added (one validating join) rather than checked row by row.
LOADED_TABLES = (
    "ledger_borrower",
    "ledger_account",
    "ledger_instalment",
    "ledger_ledgerentry",
    "contact_contact",
    "ledger_hold",
)
# The table whose rows each file's first column identifies, for references between files.
OWN_TARGET = {
    "regions": "ledger_region",
    "borrowers": "ledger_borrower",
    "accounts": "ledger_account",
}
# The big tables whose keys (primary key, unique constraints) PostgreSQL builds after a first
# load instead of maintaining them row by row (`_Writer._defer_keys`).
KEYED_LOADS = ("ledger_instalment", "ledger_ledgerentry", "contact_contact")
# The key column of a table that rows refer to, where it is not `id`.
KEY_COLUMN = {"ledger_region": "code"}
REQUIRED = ("regions", "borrowers", "accounts", "instalments")
# Rows per multi-row INSERT when staging on SQLite (13 columns at most: under the 32,766
# parameters SQLite allows a statement).
STAGE_ROWS = 100
# What insert_rows takes as a column of values (anything else is one value for every row).
_COLUMN_TYPES = (pa.Array, pa.ChunkedArray, list)


class ImportRejected(Exception):
    """The files had problems; nothing was written. `problems` lists every one found."""

    code = "import.rejected"

    def __init__(self, problems: reading.Problems):
        self.problems = problems
        first = problems.items[0] if problems.items else "unknown problem"
        more = f" (and {problems.count - 1} more)" if problems.count > 1 else ""
        super().__init__(f"import rejected, nothing written: {first}{more}")


@dataclass
class ImportResult:
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    seconds_by_file: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_read(self) -> int:
        return sum(self.rows_read.values())


Progress = Callable[[str, int], None]


def import_portfolio(
    directory: Path | str,
    *,
    by: str = "import",
    at: datetime | None = None,
    batch_rows: int = 100_000,
    block_bytes: int = 16 << 20,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every file found in `directory`. Raises ImportRejected with all problems found."""
    directory = Path(directory)
    at = at or timezone.now()
    problems = reading.Problems()
    result = ImportResult()
    started = time.perf_counter()
    paths = {name: reading.source_path(directory, name) for name in ORDER}
    if not directory.is_dir():
        problems.add(str(directory), 0, "", "is not a directory")
        raise ImportRejected(problems)
    for name in REQUIRED:
        if paths[name] is None:
            problems.add(f"{name}.csv", 0, "", "file is missing (CSV or Parquet expected)")
    if problems:
        raise ImportRejected(problems)
    vacuum: set[str] = set()
    outermost = not connection.in_atomic_block  # our transaction commits when we leave it
    try:
        with _bulk_journal(), transaction.atomic():
            with connection.cursor() as cursor:
                writer = _Writer(cursor, problems, by=by, at=at)
                writer.prepare()
                files = [(name, paths[name]) for name in ORDER if paths[name] is not None]
                read = written = 0
                file_started = time.perf_counter()
                for name, label, batch, found in _read_ahead(
                    files, limit=problems.limit, batch_rows=batch_rows, block_bytes=block_bytes
                ):
                    problems.merge(found)
                    if batch is not None:
                        read += len(batch)
                        written += writer.write(name, label, batch)
                        if progress:
                            progress(label, read)
                        continue
                    # The file is done.
                    result.rows_read[name] = read
                    result.rows_written[name] = written
                    result.seconds_by_file[name] = time.perf_counter() - file_started
                    if label in problems.unreadable and name in OWN_TARGET:
                        writer.unreadable.add(OWN_TARGET[name])
                    read = written = 0
                    file_started = time.perf_counter()
                finish_started = time.perf_counter()
                writer.finish()
                if writer.pg and outermost:
                    vacuum = writer.first_loads
                result.seconds_by_file["(whole-import checks)"] = (
                    time.perf_counter() - finish_started
                )
            if problems:
                raise ImportRejected(problems)
    finally:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                for table in _Writer.temp_tables:
                    cursor.execute(f"DROP TABLE IF EXISTS temp.{table}")
    if vacuum:
        # After a first load, VACUUM now rather than leave it to autovacuum: until then every
        # reader sets hint bits on millions of rows and index-only scans visit the heap (the
        # positions pass ran 2-3 times slower). It needs no transaction (it cannot run in
        # one), and it is part of the time the import reports.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {', '.join(sorted(vacuum))}")
    result.seconds = time.perf_counter() - started
    return result


_END = object()


def _rising(keys: pa.Array) -> bool:
    """Whether the keys strictly rise in file order (so none repeats), vectorised."""
    if len(keys) < 2:
        return True
    return bool(pc.all(pc.greater(keys[1:], keys[:-1])).as_py())


def _read_ahead(
    files: list[tuple[str, Path]], *, limit: int, batch_rows: int, block_bytes: int, depth: int = 2
) -> Iterator[tuple[str, str, reading.Batch | None, reading.Problems]]:
    """Read and check the files in a thread, a batch or two ahead of the caller's writes.

    Arrow parses and checks with the GIL released and the database works while Python waits,
    so on two cores reading overlaps writing. Yields (name, label, batch, problems found while
    reading it) and, after each file's last batch, (name, label, None, problems): the problems
    travel with their batch, so they are recorded in the same order as without the thread.
    """
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for name, path in files:
                found = reading.Problems(limit=limit)
                for batch in reading.read_file(
                    path, BY_NAME[name], found, batch_rows=batch_rows, block_bytes=block_bytes
                ):
                    if not put((name, path.name, batch, found.take())):
                        return
                if not put((name, path.name, None, found.take())):
                    return
        except BaseException as exc:  # re-raised in the caller's thread
            put(exc)
        else:
            put(_END)

    thread = threading.Thread(target=work, name="import-reader", daemon=True)
    thread.start()
    try:
        while (item := out.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


@contextmanager
def _bulk_journal():
    """SQLite in WAL mode writes every page of a big transaction twice (to the WAL, then back at
    the checkpoint); a rollback journal keeps only the pages that existed before. Switch for the
    import when we hold the only connection (the switch is refused otherwise, harmlessly), and
    back to WAL afterwards."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    # Another process's connection in the middle of a checkpoint makes the switch fail rather
    # than be refused: the import then runs in WAL mode, slower but the same. Should the switch
    # back fail the same way, the next connection's init_command switches back.
    with checkpoints_paused():
        _journal_mode("DELETE")
    try:
        yield
    finally:
        with checkpoints_paused():
            _journal_mode("WAL")


def _journal_mode(mode: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA journal_mode={mode}")
    except DatabaseError as error:
        logger.warning("could not switch the journal to %s: %s", mode, error)


def write_report(problems: reading.Problems, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("file,line,field,problem\n")
        for problem in sorted(problems.items):
            message = problem.message.replace('"', '""')
            handle.write(f'{problem.file},{problem.line},{problem.field},"{message}"\n')
        if problems.count > len(problems.items):
            handle.write(f',,,"{problems.count - len(problems.items)} more problems not listed"\n')


_TYPES = {
    "text": ("TEXT", "text"),
    "int": ("INTEGER", "bigint"),
    "date": ("TEXT", "date"),
    "instant": ("TEXT", "timestamptz"),
    "bool": ("INTEGER", "boolean"),
    "decimal": ("TEXT", "numeric"),
}

STAGES = {
    "regions": [("code", "text"), ("name", "text"), ("time_zone", "text"), ("field_coverage", "text")],
    "borrowers": [
        ("id", "text"), ("name", "text"), ("national_id_encrypted", "text"),
        ("national_id_hash", "text"), ("phone_encrypted", "text"), ("phone_hash", "text"),
        ("email_encrypted", "text"), ("address", "text"), ("region_id", "text"), ("lat", "decimal"), ("lon", "decimal"),
        ("language", "text"), ("content_hash", "text"),
    ],
    "accounts": [
        ("id", "text"), ("borrower_id", "text"), ("product", "text"), ("opened_on", "date"),
        ("principal_cents", "int"), ("currency", "text"), ("auto_debit", "bool"),
    ],
    "instalments": [
        ("account_id", "text"), ("seq", "int"), ("due_date", "date"), ("principal_cents", "int"),
        ("interest_cents", "int"), ("fee_cents", "int"), ("cumulative_cents", "int"),
    ],
    "payments": [
        ("reference", "text"), ("account_id", "text"), ("occurred_at", "instant"),
        ("amount_cents", "int"), ("effective_on", "date"),
    ],
    "contacts": [
        ("id", "text"), ("account_id", "text"), ("at", "instant"), ("channel", "text"),
        ("outcome", "text"), ("ptp_amount_cents", "int"), ("ptp_date", "date"),
    ],
    "holds": [("account_id", "text"), ("kind", "text"), ("since", "date"), ("until", "date")],
}  # fmt: skip


class _Writer:
    """Stages and writes batches on one connection inside the import's transaction."""

    temp_tables = [f"stage_{name}" for name in STAGES] + [
        "new_accounts", "touched", "rebuild", "rejected",
    ]  # fmt: skip

    def __init__(self, cursor, problems: reading.Problems, *, by: str, at: datetime):
        self.cursor = cursor
        self.problems = problems
        self.by = by
        self.at = at
        self.pg = connection.vendor == "postgresql"
        self.cipher = privacy.configured_cipher()
        self.home_zone = settings.TIME_ZONE
        self.last_instalment: tuple | None = None  # (account, seq, due date, running total)
        self.away_zones: dict[str, str] | None = None
        self.unreadable: set[str] = set()  # tables whose file could not be read: unverifiable
        self.first_only: dict[str, str] = {}  # per stage: SQL filter keeping each key's first row
        self.instalments_sorted = True
        self.existing: dict[str, bool] = {}  # per stage: does any staged key exist already?
        self.first_loads: set[str] = set()  # loaded tables that were empty when we began
        self.direct_ok = True  # keys compare in byte order in the database (see `direct`)
        # On a first load, per table: the ids this import wrote, and the same sorted (`_known`).
        self.written_ids: dict[str, list[pa.Array]] = {}
        self.sorted_ids: dict[str, np.ndarray] = {}

    # -- plumbing -------------------------------------------------------------------------------

    def sql(self, statement: str, params=None):
        self.cursor.execute(statement, params or ())
        return self.cursor

    def prepare(self) -> None:
        if self.pg:
            collation = self.sql(
                "SELECT datcollate FROM pg_database WHERE datname = current_database()"
            ).fetchone()[0]
            self.direct_ok = collation in ("C", "POSIX", "C.UTF-8", "C.utf8")
            # Room for the per-batch GROUP BYs and joins to hash in memory (this transaction only).
            self.sql("SET LOCAL work_mem = '256MB'")
            # And for the deferred index builds and foreign-key validations.
            self.sql("SET LOCAL maintenance_work_mem = '512MB'")
            # The staging tables are temporary: give them room in local buffers (8 MB by
            # default). PostgreSQL refuses once this session has used temporary tables, and
            # then keeps what it had: a savepoint makes the refusal harmless.
            try:
                with transaction.atomic():
                    self.sql("SET LOCAL temp_buffers = '256MB'")
            except DatabaseError:
                pass
        temp = "TEMP"
        for name, columns in STAGES.items():
            kinds = ", ".join(f"{c} {_TYPES[k][1 if self.pg else 0]}" for c, k in columns)
            self.sql(f"DROP TABLE IF EXISTS stage_{name}")
            self.sql(f"CREATE {temp} TABLE stage_{name} (line INTEGER, {kinds})")
        for table in ("new_accounts", "touched", "rebuild"):
            self.sql(f"DROP TABLE IF EXISTS {table}")
            self.sql(f"CREATE {temp} TABLE {table} (account_id TEXT PRIMARY KEY)")
        self.sql("DROP TABLE IF EXISTS rejected")
        self.sql(f"CREATE {temp} TABLE rejected (target TEXT, key TEXT, PRIMARY KEY (target, key))")
        self._defer_indexes()

    def _defer_indexes(self) -> None:
        """On a first load, drop the secondary indexes of the tables being filled and build them
        once at the end: a sorted build is several times cheaper than maintaining them row by
        row. The unique indexes that the checks and upserts rely on stay.

        On PostgreSQL the foreign keys of those tables go too and are added back at the end:
        Django makes them DEFERRABLE INITIALLY DEFERRED, so each inserted row would queue a
        trigger event and one lookup at commit; ADD CONSTRAINT checks every row in one join.
        The import checks its references itself before writing (`missing`), so this only
        changes how the database re-proves them. All inside the transaction: a rejected import
        rolls the drops back too."""
        self.deferred_indexes: list[tuple[str, str]] = []  # (table, CREATE INDEX …)
        self.deferred_foreign_keys: list[tuple[str, str, str]] = []
        for table in LOADED_TABLES:
            if self.sql(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
                continue
            self.first_loads.add(table)
            if self.pg:
                indexes = self.sql(
                    """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                       JOIN pg_class c ON c.oid = i.indexrelid
                       WHERE i.indrelid = %s::regclass AND NOT i.indisunique
                         AND NOT i.indisprimary ORDER BY c.relname""",
                    [table],
                ).fetchall()
                foreign_keys = self.sql(
                    """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                       WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname""",
                    [table],
                ).fetchall()
                for name, definition in foreign_keys:
                    self.deferred_foreign_keys.append((table, name, definition))
                    self.sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            else:
                names = [
                    name
                    for _, name, unique, origin, _ in self.sql(
                        f"PRAGMA index_list({table})"
                    ).fetchall()
                    if not unique and origin == "c"
                ]
                indexes = [
                    (name, self.sql(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name]
                    ).fetchone()[0])
                    for name in sorted(names)
                ]  # fmt: skip
            for name, definition in indexes:
                self.deferred_indexes.append((table, definition))
                self.sql(f'DROP INDEX "{name}"')
        self._defer_keys()

    def _defer_keys(self) -> None:
        """On PostgreSQL, a first load of the big tables also goes without their keys: a row
        inserted under a primary key and a unique constraint costs about 1.6 times one inserted
        bare, and the sorted builds at the end cost a fraction of the difference.

        Only while every batch takes the `direct` path, which proves its keys new and unique in
        Arrow and remembers the last one (`last_keys`) in place of asking the index. The first
        batch that needs the staged checks, whose upserts and probes lean on the keys, puts its
        table's keys back (`_restore_keys`) before it is staged. The foreign keys that point at
        these tables (from tables that are empty, since these are) go and come back with the
        others."""
        self.deferred_keys: dict[str, list[tuple[str, str]]] = {}  # table: [(name, definition)]
        self.last_keys: dict[str, tuple] = {}
        if not (self.pg and self.direct_ok):
            return
        for table in KEYED_LOADS:
            if table not in self.first_loads:
                continue
            for other, name, definition in self.sql(
                """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                   FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'
                   ORDER BY 1, 2""",
                [table],
            ).fetchall():
                self.deferred_foreign_keys.append((other, name, definition))
                self.sql(f'ALTER TABLE {other} DROP CONSTRAINT "{name}"')
            keys = self.sql(
                """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                   WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY contype, conname""",
                [table],
            ).fetchall()
            for name, _ in keys:
                self.sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            self.deferred_keys[table] = keys

    def _restore_keys(self, *tables: str) -> None:
        """Build the deferred keys of `tables` (of every table when none is named)."""
        for table in tables or list(self.deferred_keys):
            for name, definition in self.deferred_keys.pop(table, []):
                self.sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    def _analyze(self) -> None:
        """Fresh planner statistics before the whole-import statements: after a bulk load the
        old ones describe empty tables and lead to nested loops over millions of rows."""
        tables = [
            *LOADED_TABLES,
            "touched",
            "rebuild",
            "new_accounts",
        ]
        if self.pg:
            for table in tables:
                self.sql(f"ANALYZE {table}")
        else:
            self.sql("PRAGMA analysis_limit = 1000")
            for table in tables:
                self.sql(f"ANALYZE {table}")

    def _rebuild_indexes(self, *, but: tuple[str, ...] = ()) -> None:
        """Build the deferred indexes (except those of the tables in `but`), then re-add the
        deferred foreign keys once every index is back."""
        now = [(t, d) for t, d in self.deferred_indexes if t not in but]
        self.deferred_indexes = [(t, d) for t, d in self.deferred_indexes if t in but]
        if self.pg and now:
            # PostgreSQL will not index a table with foreign-key checks still queued; run them
            # now (they would run at commit anyway).
            self.sql("SET CONSTRAINTS ALL IMMEDIATE")
        for _, definition in now:
            self.sql(definition)
        if self.deferred_indexes:
            return
        for table, name, definition in self.deferred_foreign_keys:
            self.sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self.deferred_foreign_keys = []

    def reject(self, name: str, batch: reading.Batch) -> None:
        """Remember the ids of rows this import left out, so references to them are not
        reported a second time."""
        if name in OWN_TARGET and batch.rejected:
            self.cursor.executemany(
                "INSERT INTO rejected (target, key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(OWN_TARGET[name], key) for key in batch.rejected],
            )

    def stage(self, name: str, lines: list[int], columns: list) -> None:
        """Replace the stage's rows with this batch. Columns are Arrow arrays (or lists).

        PostgreSQL gets the batch as one CSV stream written by Arrow (C++, no Python object per
        value) into COPY; SQLite gets executemany over column lists built by the fastest route
        for each type."""
        table = f"stage_{name}"
        self.sql(f"TRUNCATE {table}" if self.pg else f"DELETE FROM {table}")
        self.insert_rows(table, ["line", *(c for c, _ in STAGES[name])], [lines, *columns])

    def insert_rows(self, table: str, names: list[str], columns: list) -> None:
        """Append rows given as columns to `table`, in bulk. A column is an Arrow array, a list, or
        one value (str, int, None) that every row takes."""
        fixed = [i for i, c in enumerate(columns) if not isinstance(c, _COLUMN_TYPES)]
        varying = [i for i in range(len(columns)) if i not in fixed]
        count = len(columns[varying[0]])
        if self.pg:
            arrays = [
                c if isinstance(c, pa.Array | pa.ChunkedArray)
                else pa.array(c) if isinstance(c, list)
                else pa.repeat(c, count)
                for c in columns
            ]  # fmt: skip
            buffer = io.BytesIO()
            pacsv.write_csv(
                pa.table(arrays, names=names),
                buffer,
                write_options=pacsv.WriteOptions(include_header=False, batch_size=65_536),
            )
            with self.cursor.copy(
                f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
            ) as copy:
                copy.write(buffer.getbuffer())
            return
        # One 2-D array of Python objects, row by row: each statement's parameters are then a
        # reshape of it (STAGE_ROWS rows, flattened) rather than tuples chained in Python.
        grid = np.empty((count, len(varying)), dtype=object)
        for index, i in enumerate(varying):
            column = columns[i]
            grid[:, index] = column if isinstance(column, list) else reading.object_values(column)
        # A value every row takes is bound once per statement (numbered ?1, ?2 … first) and named
        # by number in each row: binding costs per value, and a payment row has five such.
        constants = [columns[i] for i in fixed]

        def insert(rows: int) -> str:
            numbers = itertools.count(len(fixed) + 1)
            placeholders = []
            for _ in range(rows):
                row = [f"?{fixed.index(i) + 1}" if i in fixed else "" for i in range(len(names))]
                for i in varying:
                    row[i] = f"?{next(numbers)}"
                placeholders.append(f"({', '.join(row)})")
            return f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join(placeholders)}"

        # Many rows per INSERT: the per-statement cost of executemany (reset, step) is paid
        # once per STAGE_ROWS rows instead of once a row.
        whole = count - count % STAGE_ROWS
        for rows, values in (
            (STAGE_ROWS, grid[:whole].reshape(whole // STAGE_ROWS, STAGE_ROWS * len(varying))),
            (1, grid[whole:]),
        ):
            if len(values):
                params = values.tolist()
                self.cursor.executemany(
                    insert(rows), [constants + p for p in params] if constants else params
                )

    def direct(
        self,
        table: str,
        key: list[str],
        keys: list[pa.Array],
        *,
        rising: bool,
        clean: bool,
        references: pa.Array,
        insert: dict[str, pa.Array | list | str],
        refers_to: str = "ledger_account",
    ) -> int | None:
        """The first-load path for a clean batch: rows go straight into `table`, not through a
        stage. Returns the rows written, or None (nothing done) when the batch needs the staged
        checks: anything found so far, a key it cannot prove new, an unknown reference.

        It proves what the staged checks would: no key repeats (`rising`: strictly rising in
        file order), none is in the table (the batch's first key sorts after the table's
        greatest, in the byte order both databases use here), every row `references` exists in
        `refers_to`, and the per-row rules hold (`clean`, computed by the caller in Arrow). The
        bookkeeping tables are not needed: every account is new (`all_new`), no schedule
        predates the import.
        """
        written = self._direct(table, key, keys, rising=rising, clean=clean,
                               references=references, insert=insert, refers_to=refers_to)  # fmt: skip
        if written is None:
            self._restore_keys(table)  # the staged checks and upserts need them
        elif table in self.deferred_keys and written:
            self.last_keys[table] = tuple(k[-1].as_py() for k in keys)
        return written

    def _direct(
        self, table, key, keys, *, rising, clean, references, insert, refers_to
    ) -> int | None:
        if (
            not (self.direct_ok and self.all_new and table in self.first_loads and rising and clean)
            or self.problems
        ):
            return None
        if not len(keys[0]):
            return 0
        if table in self.deferred_keys:
            last = self.last_keys.get(table)
        else:
            last = self._greatest_key(table, key)
        if last is not None and tuple(k[0].as_py() for k in keys) <= tuple(last):
            return None
        wanted = pc.unique(references)
        pk = KEY_COLUMN.get(refers_to, "id")
        if self._known(refers_to, wanted):
            unknown = None
        elif self.pg:
            unknown = self.sql(
                f"""SELECT 1 FROM unnest(%s::text[]) AS v (id)
                    WHERE NOT EXISTS (SELECT 1 FROM {refers_to} t WHERE t.{pk} = v.id) LIMIT 1""",
                [wanted.to_pylist()],
            ).fetchone()
        else:
            unknown = self.sql(
                f"""SELECT 1 FROM json_each(%s) AS v
                    WHERE NOT EXISTS (SELECT 1 FROM {refers_to} t WHERE t.{pk} = v.value)
                    LIMIT 1""",
                [json.dumps(wanted.to_pylist())],
            ).fetchone()
        if unknown is not None:
            return None
        self.insert_rows(table, list(insert), list(insert.values()))
        return len(keys[0])

    def wrote(self, table: str, ids: pa.Array) -> None:
        """Remember ids written to `table` on its first load, for `_known`."""
        if table in self.first_loads:
            self.written_ids.setdefault(table, []).append(ids)
            self.sorted_ids.pop(table, None)

    def _known(self, table: str, ids: pa.Array) -> bool:
        """Whether every one of `ids` (distinct) is a row of `table` this import wrote, known
        without asking the database: on a first load with no problem found so far, every staged
        row was written, and they are all the table holds. A binary search over the sorted ids,
        as fixed-width bytes; False (ask the database) whenever that cannot be sure."""
        if not self.written_ids.get(table) or self.problems:
            return False
        if table not in self.sorted_ids:
            written = pa.chunked_array(self.written_ids[table], pa.string()).cast(pa.binary())
            self.sorted_ids[table] = np.sort(written.to_numpy().astype(bytes))
        known, wanted = self.sorted_ids[table], ids.cast(pa.binary())
        if not len(wanted):
            return True
        if not len(known):
            return False
        # Fixed-width bytes drop trailing NULs and would cut a longer id to a known prefix.
        if (
            pc.max(pc.binary_length(wanted)).as_py() > known.dtype.itemsize
            or pc.any(pc.match_substring(ids, "\x00")).as_py()
        ):
            return False
        values = wanted.to_numpy(zero_copy_only=False).astype(known.dtype)
        found = np.searchsorted(known, values).clip(max=len(known) - 1)
        return bool((known[found] == values).all())

    def on_conflict(self, name: str, target: str) -> str:
        """The ON CONFLICT … DO NOTHING clause for inserting stage `name`, or nothing when no
        staged key exists in the table (checked by `changed`) and the stage holds each key once
        (`first_only`): PostgreSQL's speculative insertion costs twice a plain index insert.
        SQLite's costs nothing extra, so it keeps the clause."""
        if self.pg and not self.existing.get(name, True):
            return ""
        return f"ON CONFLICT ({target}) DO NOTHING"

    def report(self, label: str, rows, field_name: str, message: Callable[[tuple], str]) -> None:
        for row in rows:
            self.problems.add(label, row[0], field_name, message(row))

    def instant(self, values) -> pa.Array:
        """UTC instants as the text each database stores: Django's naive-UTC form on SQLite
        (microseconds only when present), the same with a +00 offset on PostgreSQL. Arrow's
        cast of a naive timestamp to text is several times faster than strftime."""
        if isinstance(values, datetime):
            values = pa.array([values], pa.timestamp("us", tz="UTC"))
        # "YYYY-MM-DD HH:MM:SS.ffffff": the naive cast prints the UTC wall time, six decimals.
        text = pc.cast(pc.cast(values, pa.timestamp("us")), pa.string())
        if self.pg:
            return pc.binary_join_element_wise(text, "+00", "")
        has_fraction = pc.not_equal(pc.microsecond(values), 0)
        return pc.if_else(has_fraction, text, pc.utf8_slice_codeunits(text, 0, 19))

    def missing(self, name: str, column: str, target: str, label: str, field_name: str, what: str):
        """Report rows whose reference exists neither in the database nor earlier in this import.

        A reference to a row that this import itself rejected (and reported) is not reported
        again: one bad region should give one problem, not one per borrower, account and payment.
        Rows that lean on a rejected row are rejected in turn, silently, for the same reason.
        """
        pk = KEY_COLUMN.get(target, "id")
        # Nearly always every reference is known: say so from the distinct values alone, and
        # skip the statements that pin down lines and rejected keys.
        if (
            self.sql(
                f"""SELECT 1 FROM (SELECT DISTINCT {column} AS v FROM stage_{name}) d
                    WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.{pk} = d.v) LIMIT 1"""
            ).fetchone()
            is None
        ):
            return
        rows = (
            []
            if target in self.unreadable
            else self.sql(
                f"""SELECT s.line, s.{column} FROM stage_{name} s
                WHERE s.{column} IN (
                    SELECT d.v FROM (SELECT DISTINCT {column} AS v FROM stage_{name}) d
                    LEFT JOIN {target} t ON t.{pk} = d.v
                    WHERE t.{pk} IS NULL
                      AND NOT EXISTS (SELECT 1 FROM rejected r WHERE r.target = %s AND r.key = d.v))
                ORDER BY s.line""",
                [target],
            ).fetchall()
        )
        if name in OWN_TARGET:
            self.sql(
                f"""INSERT INTO rejected (target, key)
                    SELECT DISTINCT %s, s.{STAGES[name][0][0]} FROM stage_{name} s
                    LEFT JOIN {target} t ON t.{pk} = s.{column}
                    WHERE t.{pk} IS NULL
                    ON CONFLICT DO NOTHING""",
                [OWN_TARGET[name]],
            )
        self.report(label, rows, field_name, lambda r: f"unknown {what} {r[1]!r}")

    def changed(self, name: str, key: list[str], table: str, columns: list[str], label: str, what):
        """Report staged rows whose key exists with different content in the database.

        Only a key's first row in the batch is compared; later rows with the same key are
        `duplicates_in_stage`'s to report.
        """
        join = " AND ".join(f"t.{k} = s.{k}" for k in key)
        # Usually (a first load) no staged key exists yet: one probe pass says so, the
        # comparison is skipped, and the insert needs no ON CONFLICT arbiter (`on_conflict`).
        self.existing[name] = self._may_exist(name, key, table) and (
            self.sql(f"SELECT 1 FROM stage_{name} s JOIN {table} t ON {join} LIMIT 1").fetchone()
            is not None
        )
        if not self.existing[name]:
            return
        differs = " OR ".join(f"s.{c} <> t.{c}" for c in columns)
        select = ", ".join(f"s.{c}, t.{c}" for c in columns)
        rows = self.sql(
            f"SELECT s.line, {select} FROM stage_{name} s JOIN {table} t ON {join} "
            f"WHERE ({differs}) AND {self.first_only[name]} "
            "ORDER BY s.line"
        ).fetchall()
        for row in rows:
            diffs = [
                f"{c} {row[1 + 2 * i + 1]} → {row[1 + 2 * i]}"
                for i, c in enumerate(columns)
                if str(row[1 + 2 * i]) != str(row[1 + 2 * i + 1])
            ]
            self.problems.add(
                label,
                row[0],
                "",
                f"{what} already exists with different content: " + "; ".join(diffs),
            )

    def _greatest_key(self, table: str, key: list[str]) -> tuple | None:
        """The table's greatest `key` (one index seek), None when it is empty."""
        present = " AND ".join(f"{k} IS NOT NULL" for k in key)
        descending = ", ".join(f"{k} DESC" for k in key)
        return self.sql(
            f"SELECT {', '.join(key)} FROM {table} WHERE {present} ORDER BY {descending} LIMIT 1"
        ).fetchone()

    def _may_exist(self, name: str, key: list[str], table: str) -> bool:
        """False when every staged key sorts after the table's greatest key (one index seek and
        one scan of the stage): a first load of a sorted export, batch after batch, never
        needs the probe join."""
        last = self._greatest_key(table, key)
        if last is None:
            return False
        marks = ", ".join(["%s"] * len(key))
        return (
            self.sql(
                f"SELECT 1 FROM stage_{name} WHERE ({', '.join(key)}) <= ({marks}) LIMIT 1",
                list(last),
            ).fetchone()
            is not None
        )

    def duplicates_in_stage(
        self, name: str, key: list[str], columns: list[str], label: str, *, rising: bool = False
    ):
        """Within one batch, a key seen again with different content than its first row.

        Also sets `first_only[name]`, the filter that keeps each key's first row: a no-op for the
        usual batch without repeated keys, which then costs one GROUP BY and nothing more — or
        nothing at all when the caller saw the keys strictly rising in file order (`rising`),
        as in a sorted export.
        """
        keys = ", ".join(key)
        repeated = (
            None
            if rising
            else self.sql(
                f"SELECT 1 FROM stage_{name} GROUP BY {keys} HAVING COUNT(*) > 1 LIMIT 1"
            ).fetchone()
        )
        if repeated is None:
            self.first_only[name] = "1 = 1"
            return
        self.first_only[name] = f"s.line IN (SELECT MIN(line) FROM stage_{name} GROUP BY {keys})"
        same_key = " AND ".join(f"f.{k} = s.{k}" for k in key)
        differs = " OR ".join(
            f"COALESCE(CAST(s.{c} AS TEXT), '') <> COALESCE(CAST(f.{c} AS TEXT), '')"
            for c in columns
        )
        rows = self.sql(
            f"""SELECT s.line, f.line, {", ".join("s." + k for k in key)}
                FROM stage_{name} s
                JOIN stage_{name} f ON {same_key}
                 AND f.line IN (SELECT MIN(line) FROM stage_{name} GROUP BY {keys})
                WHERE s.line > f.line AND ({differs})
                ORDER BY s.line"""
        ).fetchall()
        self.report(
            label,
            rows,
            "",
            lambda r: (
                f"{'/'.join(key)} {'/'.join(map(str, r[2:]))} appears again with different "
                f"content (first at line {r[1]})"
            ),
        )

    # -- files ----------------------------------------------------------------------------------

    def write(self, name: str, label: str, batch: reading.Batch) -> int:
        self.reject(name, batch)
        if not len(batch):
            return 0
        return getattr(self, f"write_{name}")(label, batch)

    def write_regions(self, label, batch) -> int:
        v = batch.values
        self.stage(
            "regions",
            batch.lines,
            [v["region_code"], v["name"], v["time_zone"], v["field_coverage"]],
        )
        self.duplicates_in_stage(
            "regions", ["code"], ["name", "time_zone", "field_coverage"], label
        )
        return self.sql(
            """INSERT INTO ledger_region (code, name, time_zone, field_coverage)
               SELECT code, MAX(name), MAX(time_zone), MAX(field_coverage) FROM stage_regions GROUP BY code
               ON CONFLICT (code) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone,
                   field_coverage = excluded.field_coverage
               WHERE ledger_region.name <> excluded.name OR ledger_region.time_zone <> excluded.time_zone
                  OR ledger_region.field_coverage <> excluded.field_coverage"""
        ).rowcount

    def _emails(self, emails: list[str]) -> tuple[list[str], list[str]]:
        """Encrypted emails and their hashes; an empty email stays empty (no address on file)."""
        given = [e for e in emails if e]
        encrypted, hashed = self.cipher.batch(given) if given else ([], [])
        tokens, digests = iter(encrypted), iter(hashed)
        enc, hashes = [], []
        for email in emails:
            enc.append(next(tokens) if email else "")
            hashes.append(next(digests) if email else "")
        return enc, hashes

    def write_borrowers(self, label, batch) -> int:
        # Without an email column the addresses on file are kept; with one, the file's value
        # (an empty one clears a wrong address: sending to it would reach a stranger).
        keep_email = (
            "" if "email" in batch.absent else "email_encrypted = excluded.email_encrypted,"
        )
        v = {name: reading.python_values(values) for name, values in batch.values.items()}
        national_enc, national_hash = self.cipher.batch(v["national_id"])
        phone_enc, phone_hash = self.cipher.batch(v["phone"])
        email_enc, email_hash = self._emails(v["email"])
        languages = [lang or "zh" for lang in v["language"]]
        content = [
            hashlib.sha256("\x1f".join(str(x) for x in row).encode()).hexdigest()
            for row in zip(v["name"], national_hash, phone_hash, v["address"], v["region_code"],
                           v["lat"], v["lon"], languages, email_hash, strict=True)
        ]  # fmt: skip
        ids = batch.values["borrower_id"]
        written = self.direct(
            "ledger_borrower", ["id"], [ids], rising=_rising(ids), clean=True,
            references=batch.values["region_code"], refers_to="ledger_region",
            insert={
                "id": ids, "name": v["name"], "national_id_encrypted": national_enc,
                "national_id_hash": national_hash, "phone_encrypted": phone_enc,
                "phone_hash": phone_hash, "email_encrypted": email_enc, "address": v["address"],
                "region_id": batch.values["region_code"], "lat": batch.values["lat"],
                "lon": batch.values["lon"], "language": languages, "content_hash": content,
            },
        )  # fmt: skip
        self.wrote("ledger_borrower", ids)
        if written is not None:
            return written
        self.stage(
            "borrowers",
            batch.lines,
            [v["borrower_id"], v["name"], national_enc, national_hash, phone_enc, phone_hash,
             email_enc, v["address"], v["region_code"], v["lat"], v["lon"], languages, content],
        )  # fmt: skip
        self.duplicates_in_stage(
            "borrowers", ["id"], ["content_hash"], label,
            rising=_rising(batch.values["borrower_id"]),
        )  # fmt: skip
        self.missing("borrowers", "region_id", "ledger_region", label, "region_code", "region")
        self.changed(
            "borrowers",
            ["id"],
            "ledger_borrower",
            ["national_id_hash"],
            label,
            "borrower (national ID differs)",
        )
        return self.sql(
            f"""INSERT INTO ledger_borrower (id, name, national_id_encrypted, national_id_hash,
                   phone_encrypted, phone_hash, email_encrypted, address, region_id, lat, lon,
                   language, content_hash)
               SELECT id, name, national_id_encrypted, national_id_hash, phone_encrypted, phone_hash,
                   email_encrypted, address, region_id, lat, lon, language, content_hash
               FROM stage_borrowers s WHERE {self.first_only["borrowers"]}
               ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                   phone_encrypted = excluded.phone_encrypted, phone_hash = excluded.phone_hash,
                   {keep_email}
                   address = excluded.address, region_id = excluded.region_id, lat = excluded.lat,
                   lon = excluded.lon, language = excluded.language, content_hash = excluded.content_hash
               WHERE ledger_borrower.content_hash <> excluded.content_hash"""
        ).rowcount

    def write_accounts(self, label, batch) -> int:
        v = batch.values
        written = self.direct(
            "ledger_account", ["id"], [v["account_id"]],
            rising=_rising(v["account_id"]),
            clean=bool(pc.all(pc.greater(v["principal"], 0)).as_py()),
            references=v["borrower_id"], refers_to="ledger_borrower",
            insert={
                "id": v["account_id"], "borrower_id": v["borrower_id"], "product": v["product"],
                "opened_on": v["opened_on"], "principal_cents": v["principal"],
                "currency": v["currency"], "auto_debit": v["auto_debit"], "status": "active",
                "scheduled_cents": 0, "charged_cents": 0, "credited_cents": 0,
            },
        )  # fmt: skip
        self.wrote("ledger_account", v["account_id"])
        if written is not None:
            return written
        self.stage(
            "accounts",
            batch.lines,
            [v["account_id"], v["borrower_id"], v["product"], v["opened_on"], v["principal"],
             v["currency"], v["auto_debit"]],
        )  # fmt: skip
        for row in self.sql(
            "SELECT line FROM stage_accounts WHERE principal_cents <= 0"
        ).fetchall():
            self.problems.add(label, row[0], "principal", "must be more than 0")
        self.duplicates_in_stage(
            "accounts",
            ["id"],
            ["borrower_id", "product", "opened_on", "principal_cents", "currency", "auto_debit"],
            label,
            rising=_rising(v["account_id"]),
        )
        self.missing("accounts", "borrower_id", "ledger_borrower", label, "borrower_id", "borrower")
        self.changed(
            "accounts", ["id"], "ledger_account",
            ["borrower_id", "product", "opened_on", "principal_cents", "currency"], label, "account",
        )  # fmt: skip
        if not self.all_new:
            self.sql(
                """INSERT INTO new_accounts (account_id) SELECT DISTINCT id FROM stage_accounts
                   WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.id = stage_accounts.id)
                   ON CONFLICT DO NOTHING"""
            )
        return self.sql(
            f"""INSERT INTO ledger_account (id, borrower_id, product, opened_on, principal_cents,
                   currency, auto_debit, status, scheduled_cents, charged_cents, credited_cents)
               SELECT id, borrower_id, product, opened_on, principal_cents, currency, auto_debit,
                   'active', 0, 0, 0
               FROM stage_accounts s WHERE {self.first_only["accounts"]} AND principal_cents > 0
               ON CONFLICT (id) DO UPDATE SET auto_debit = excluded.auto_debit
               WHERE ledger_account.auto_debit <> excluded.auto_debit"""
        ).rowcount

    def write_instalments(self, label, batch) -> int:
        v = batch.values
        accounts, seqs = v["account_id"], v["seq"]
        cumulative = self._walk_schedule(label, batch)
        written = self.direct(
            "ledger_instalment", ["account_id", "seq"], [accounts, seqs],
            rising=self.batch_rising,
            clean=bool(pc.all(pc.greater_equal(seqs, 1)).as_py()),
            references=accounts,
            insert={
                "account_id": accounts, "seq": seqs, "due_date": v["due_date"],
                "principal_cents": v["principal_due"], "interest_cents": v["interest_due"],
                "fee_cents": v["fee_due"], "cumulative_cents": cumulative,
            },
        )  # fmt: skip
        if written is not None:
            return written
        self.stage(
            "instalments",
            batch.lines,
            [accounts, seqs, v["due_date"], v["principal_due"], v["interest_due"], v["fee_due"],
             cumulative],
        )  # fmt: skip
        for row in self.sql("SELECT line FROM stage_instalments WHERE seq < 1").fetchall():
            self.problems.add(label, row[0], "seq", "must be 1 or more")
        self.missing("instalments", "account_id", "ledger_account", label, "account_id", "account")
        self.duplicates_in_stage(
            "instalments",
            ["account_id", "seq"],
            ["due_date", "principal_cents", "interest_cents", "fee_cents"],
            label,
            rising=self.batch_rising,
        )
        self.changed(
            "instalments", ["account_id", "seq"], "ledger_instalment",
            ["due_date", "principal_cents", "interest_cents", "fee_cents"], label, "instalment",
        )  # fmt: skip
        self._touch("instalments")
        # Accounts that had a schedule before this import need their running totals rebuilt
        # (none can, on a first load of the schedules).
        if "ledger_instalment" not in self.first_loads:
            self.sql(
                f"""INSERT INTO rebuild (account_id)
                   SELECT DISTINCT account_id FROM stage_instalments
                   WHERE account_id NOT IN ({self.new_accounts_sql})
                   ON CONFLICT DO NOTHING"""
            )
        return self.sql(
            f"""INSERT INTO ledger_instalment (account_id, seq, due_date, principal_cents,
                   interest_cents, fee_cents, cumulative_cents)
               SELECT account_id, seq, due_date, principal_cents, interest_cents, fee_cents,
                   cumulative_cents
               FROM stage_instalments s WHERE seq >= 1 AND {self.first_only["instalments"]}
               {self.on_conflict("instalments", "account_id, seq")}"""
        ).rowcount

    def _walk_schedule(self, label: str, batch: reading.Batch) -> pa.Array:
        """Running totals per account and the rising-due-date check, vectorised over a batch.

        Both assume rows sorted by (account_id, seq), as exports usually are; when they are not,
        `finish` redoes both in SQL over every account touched.
        """
        v = batch.values
        n = len(batch)
        account_ids = v["account_id"]
        accounts = account_ids.to_numpy(zero_copy_only=False)
        seqs = v["seq"].to_numpy()
        dues = v["due_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
        amounts = (
            v["principal_due"].to_numpy() + v["interest_due"].to_numpy() + v["fee_due"].to_numpy()
        )
        same = np.zeros(n, dtype=bool)
        rising = np.ones(n, dtype=bool)
        if n > 1:
            current, before = account_ids[1:], account_ids[:-1]
            same[1:] = pc.equal(current, before).to_numpy(zero_copy_only=False)
            later = pc.greater(current, before).to_numpy(zero_copy_only=False)
            rising[1:] = later | (same[1:] & (seqs[1:] > seqs[:-1]))
        carry = self.last_instalment is not None and n and accounts[0] == self.last_instalment[0]
        if self.last_instalment is not None and n:
            last_account, last_seq, _, _ = self.last_instalment
            rising[0] = accounts[0] > last_account or (carry and seqs[0] > last_seq)
        self.batch_rising = bool(rising[1:].all())
        if not rising.all():
            self.instalments_sorted = False
        if self.instalments_sorted:
            previous_due = np.empty(n, dtype="datetime64[D]")
            previous_due[1:] = dues[:-1]
            checked = same.copy()
            if carry:
                previous_due[0] = np.datetime64(self.last_instalment[2], "D")
                checked[0] = True
            for index in np.flatnonzero(checked & (dues <= previous_due)):
                self.problems.add(
                    label, batch.lines[index], "due_date",
                    f"{dues[index]} is not after the previous instalment's due date "
                    f"{previous_due[index]}: due dates must rise with seq",
                )  # fmt: skip
        totals = np.cumsum(amounts)
        block_start = np.maximum.accumulate(np.where(~same, np.arange(n), 0))
        cumulative = totals - (totals - amounts)[block_start]
        if carry:
            cumulative[block_start == 0] += self.last_instalment[3]
        if n:
            self.last_instalment = (accounts[-1], int(seqs[-1]), dues[-1], int(cumulative[-1]))
        return pa.array(cumulative, pa.int64())

    @property
    def all_new(self) -> bool:
        """Every account in the database is one this import added (a first load): the
        per-account bookkeeping tables are then just `ledger_account`, and are not kept."""
        return "ledger_account" in self.first_loads

    @property
    def new_accounts_sql(self) -> str:
        if self.all_new:
            return "SELECT id FROM ledger_account"
        return "SELECT account_id AS id FROM new_accounts"

    @property
    def touched_sql(self) -> str:
        if self.all_new:
            return "SELECT id FROM ledger_account"
        return "SELECT account_id FROM touched"

    def _touch(self, name: str) -> None:
        if self.all_new:
            return
        self.sql(
            f"""INSERT INTO touched (account_id) SELECT DISTINCT account_id FROM stage_{name}
                WHERE true ON CONFLICT DO NOTHING"""
        )

    def _zones(self, accounts: pa.Array) -> pa.Array | None:
        """Each row's region time zone, null for the home zone; None when all are at home.
        Accounts in the home zone (nearly all, for a Chinese portfolio) are not looked up: only
        those elsewhere are loaded, once."""
        if self.away_zones is None:
            self.away_zones = dict(
                self.sql(
                    """SELECT a.id, r.time_zone FROM ledger_account a
                       JOIN ledger_borrower b ON b.id = a.borrower_id
                       JOIN ledger_region r ON r.code = b.region_id
                       WHERE r.time_zone <> %s""",
                    [self.home_zone],
                ).fetchall()
            )
        if not self.away_zones:
            return None
        away = self.away_zones
        found = pc.index_in(accounts, pa.array(list(away), pa.string()))
        return pc.take(pa.array(list(away.values()), pa.string()), found)

    def write_payments(self, label, batch) -> int:
        v = batch.values
        effective = reading.local_dates(v["paid_at"], self._zones(v["account_id"]), self.home_zone)
        occurred = self.instant(v["paid_at"])
        written = self.direct(
            "ledger_ledgerentry", ["reference"], [v["payment_id"]],
            rising=_rising(v["payment_id"]),
            clean=bool(
                pc.all(pc.greater(v["amount"], 0)).as_py()
                and pc.all(pc.less_equal(v["paid_at"], pa.scalar(self.at, v["paid_at"].type))).as_py()
            ),
            references=v["account_id"],
            insert={
                "account_id": v["account_id"], "kind": "payment", "amount_cents": v["amount"],
                "effective_on": effective, "occurred_at": occurred, "reference": v["payment_id"],
                "source": "import", "recorded_by": self.by,
                "recorded_at": self.instant(self.at)[0].as_py(), "note": "",
            },
        )  # fmt: skip
        if written is not None:
            return written
        self.stage(
            "payments", batch.lines,
            [v["payment_id"], v["account_id"], occurred, v["amount"], effective],
        )  # fmt: skip
        for row in self.sql("SELECT line FROM stage_payments WHERE amount_cents <= 0").fetchall():
            self.problems.add(label, row[0], "amount", "must be more than 0")
        now = self.at if self.pg else self.instant(self.at)[0].as_py()
        for row in self.sql(
            "SELECT line, occurred_at FROM stage_payments WHERE occurred_at > %s", [now]
        ).fetchall():
            self.problems.add(label, row[0], "paid_at", "is in the future")
        self.missing("payments", "account_id", "ledger_account", label, "account_id", "account")
        self.duplicates_in_stage(
            "payments", ["reference"], ["account_id", "occurred_at", "amount_cents"], label,
            rising=_rising(v["payment_id"]),
        )  # fmt: skip
        self.changed(
            "payments", ["reference"], "ledger_ledgerentry",
            ["account_id", "amount_cents", "occurred_at"], label, "payment",
        )  # fmt: skip
        self._touch("payments")
        return self.sql(
            f"""INSERT INTO ledger_ledgerentry (account_id, kind, amount_cents, effective_on,
                   occurred_at, reference, source, recorded_by, recorded_at, note)
               SELECT account_id, 'payment', amount_cents, effective_on, occurred_at, reference,
                   'import', %s, %s, ''
               FROM stage_payments s WHERE amount_cents > 0
                 AND {self.first_only["payments"]}
               {self.on_conflict("payments", "reference")}""",
            [self.by, self.at if self.pg else self.instant(self.at)[0].as_py()],
        ).rowcount

    def write_contacts(self, label, batch) -> int:
        v = batch.values
        at = self.instant(v["at"])
        channel, outcome, amount = v["channel"], v["outcome"], v["ptp_amount"]
        delivered = pc.equal(outcome, "delivered")
        promise = pc.equal(outcome, "promise_to_pay")
        message = pc.is_in(channel, pa.array(["sms", "email", "app"]))
        # The same rules as `checks` below, over the batch in Arrow.
        broken = [
            pc.and_(delivered, pc.invert(message)),
            pc.and_(pc.invert(delivered), message),
            pc.and_(promise, pc.fill_null(pc.less_equal(amount, 0), True)),
            pc.and_(promise, pc.is_null(v["ptp_date"])),
            pc.and_(pc.invert(promise), pc.fill_null(pc.not_equal(amount, 0), False)),
        ]
        none = pa.nulls(len(batch))
        written = self.direct(
            "contact_contact", ["id"], [v["contact_id"]],
            rising=_rising(v["contact_id"]),
            clean=not any(pc.any(b).as_py() for b in broken),
            references=v["account_id"],
            insert={
                "id": v["contact_id"], "account_id": v["account_id"], "at": at,
                "channel": channel, "outcome": outcome,
                "ptp_amount_cents": pc.if_else(promise, amount, none.cast(pa.int64())),
                "ptp_date": pc.if_else(promise, v["ptp_date"], none.cast(pa.date32())),
                "source": "import",
            },
        )  # fmt: skip
        if written is not None:
            return written
        self.stage(
            "contacts", batch.lines,
            [v["contact_id"], v["account_id"], at, v["channel"], v["outcome"],
             v["ptp_amount"], v["ptp_date"]],
        )  # fmt: skip
        checks = [
            ("outcome", "outcome = 'delivered' AND channel IN ('call', 'visit')",
             "delivered applies to messages (sms, email, app), not to calls or visits"),
            ("outcome", "outcome <> 'delivered' AND channel IN ('sms', 'email', 'app')",
             "a message (sms, email, app) can only have the outcome delivered"),
            ("ptp_amount", "outcome = 'promise_to_pay' AND (ptp_amount_cents IS NULL OR ptp_amount_cents <= 0)",
             "a promise to pay needs a ptp_amount more than 0"),
            ("ptp_date", "outcome = 'promise_to_pay' AND ptp_date IS NULL",
             "a promise to pay needs a ptp_date"),
            ("ptp_amount", "outcome <> 'promise_to_pay' AND ptp_amount_cents IS NOT NULL AND ptp_amount_cents <> 0",
             "only a promise_to_pay carries a ptp_amount"),
        ]  # fmt: skip
        for field_name, condition, message in checks:
            for row in self.sql(f"SELECT line FROM stage_contacts WHERE {condition}").fetchall():
                self.problems.add(label, row[0], field_name, message)
        self.missing("contacts", "account_id", "ledger_account", label, "account_id", "account")
        self.duplicates_in_stage(
            "contacts",
            ["id"],
            ["account_id", "at", "channel", "outcome", "ptp_amount_cents", "ptp_date"],
            label,
            rising=_rising(v["contact_id"]),
        )
        self.changed(
            "contacts", ["id"], "contact_contact",
            ["account_id", "at", "channel", "outcome"], label, "contact",
        )  # fmt: skip
        return self.sql(
            f"""INSERT INTO contact_contact (id, account_id, at, channel, outcome, ptp_amount_cents,
                   ptp_date, source)
               SELECT id, account_id, at, channel, outcome,
                   CASE WHEN outcome = 'promise_to_pay' THEN ptp_amount_cents END,
                   CASE WHEN outcome = 'promise_to_pay' THEN ptp_date END, 'import'
               FROM stage_contacts s
               WHERE {self.first_only["contacts"]}
               {self.on_conflict("contacts", "id")}"""
        ).rowcount

    def write_holds(self, label, batch) -> int:
        v = batch.values
        self.stage("holds", batch.lines, [v["account_id"], v["kind"], v["since"], v["until"]])
        for row in self.sql(
            "SELECT line FROM stage_holds WHERE until IS NOT NULL AND until < since"
        ).fetchall():
            self.problems.add(label, row[0], "until", "is before since")
        self.missing("holds", "account_id", "ledger_account", label, "account_id", "account")
        self.duplicates_in_stage("holds", ["account_id", "kind", "since"], ["until"], label)
        return self.sql(
            f"""INSERT INTO ledger_hold (account_id, kind, since, until)
               SELECT account_id, kind, since, until FROM stage_holds s
               WHERE (until IS NULL OR until >= since)
                 AND {self.first_only["holds"]}
               ON CONFLICT (account_id, kind, since) DO UPDATE SET until = excluded.until
               WHERE ledger_hold.until IS DISTINCT FROM excluded.until"""
        ).rowcount

    # -- whole-import checks --------------------------------------------------------------------

    def finish(self) -> None:
        if self.problems:
            return  # the transaction will be rolled back; the checks below assume clean rows
        self._restore_keys()
        self._analyze()
        if not self.all_new:
            self.sql(
                "INSERT INTO touched (account_id) SELECT account_id FROM new_accounts "
                "WHERE true ON CONFLICT DO NOTHING"
            )
        # Sorted input was checked and totalled batch by batch; only accounts whose schedule
        # predates this import (or every account, for unsorted input) need the SQL pass.
        scope = "SELECT account_id FROM rebuild" if self.instalments_sorted else self.touched_sql
        self._check_schedules(scope)
        for (account_id,) in self.sql(
            f"""SELECT n.id FROM ({self.new_accounts_sql}) n
               WHERE NOT EXISTS (SELECT 1 FROM ledger_instalment i WHERE i.account_id = n.id)
               ORDER BY n.id"""
        ).fetchall():
            self.problems.add(
                "accounts", 0, "account_id", f"account {account_id} has no instalments"
            )
        if self.problems:
            return
        self.sql(
            f"""UPDATE ledger_instalment SET cumulative_cents = w.running
                FROM (SELECT id, SUM(principal_cents + interest_cents + fee_cents)
                          OVER (PARTITION BY account_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS running
                      FROM ledger_instalment WHERE account_id IN ({scope})) w
                WHERE w.id = ledger_instalment.id AND ledger_instalment.cumulative_cents <> w.running"""
        )
        if not self.pg:
            # SQLite groups the entries per account along entry_account_date; PostgreSQL hashes.
            self._rebuild_indexes(but=("ledger_account",))
        sql, params = projection_sql(scope_sql=None if self.all_new else self.touched_sql)
        self.sql(sql, params)
        # The accounts' indexes last, so the projection did not maintain them row by row.
        self._rebuild_indexes()

    def _check_schedules(self, scope: str) -> None:
        rows = self.sql(
            f"""SELECT account_id, seq, due_date, previous FROM (
                   SELECT account_id, seq, due_date,
                          LAG(due_date) OVER (PARTITION BY account_id ORDER BY seq) AS previous
                   FROM ledger_instalment WHERE account_id IN ({scope})) x
               WHERE previous IS NOT NULL AND due_date <= previous
               ORDER BY account_id, seq"""
        ).fetchall()
        for account_id, seq, due_date, previous in rows:
            self.problems.add(
                "instalments", 0, "due_date",
                f"account {account_id} instalment {seq} falls due on {due_date}, not after the "
                f"instalment before it ({previous}): due dates must rise with seq",
            )  # fmt: skip
