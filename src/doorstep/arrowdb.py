"""Arrow straight from the database: an ADBC connection beside Django's, for reads of millions
of rows (the nightly snapshot, the guard's contact history, the decisions' digest) that Python
tuples would make slow. ADBC drivers ship as wheels; DuckDB's scanners download at run time.

What such a connection reads is what has been committed: a caller inside a transaction must not
use one (on SQLite it is refused outright; see adbc_connect).
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from doorstep.sqlite.base import checkpoints_paused


def epoch_seconds_sql(column: str, vendor: str) -> str:
    """A timestamp column as whole epoch seconds (BIGINT), computed by the database: no datetime
    object per row. On PostgreSQL date_part is float8 arithmetic where EXTRACT is numeric (14+),
    evaluated per row (7.7M contacts at a million accounts: about 1.5 s). Flooring it is exact: at
    microsecond resolution an instant lies at least 1e-6 s below the next second, and float8
    resolves 2.4e-7 s at today's epochs. SQLite's unixepoch() is strftime('%s') at half the cost."""
    if vendor == "postgresql":
        return f"CAST(FLOOR(date_part('epoch', {column})) AS BIGINT)"
    return f"unixepoch({column})"


def usable() -> bool:
    """Whether an ADBC read now sees what Django's connection sees: not inside a transaction."""
    return not connection.in_atomic_block


@contextmanager
def adbc_connect():
    """An ADBC connection to the configured database, on its own connection, not Django's.

    On SQLite, Django's connection is closed first and must not be in a transaction, and this
    process's WAL checkpointer waits until the connection closes: the ADBC driver carries its own
    copy of the SQLite library, and two copies in one process that both have a file open corrupt
    it (the last one to close checkpoints and deletes the WAL under the other;
    sqlite.org/howtocorrupt.html §2.2). Other processes are safe, as always with SQLite.
    """
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        import adbc_driver_postgresql.dbapi

        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "localhost"
        port = db.get("PORT") or 5432
        uri = f"postgresql://{user}{password}@{host}:{port}/{connection.settings_dict['NAME']}"
        with adbc_driver_postgresql.dbapi.connect(uri) as adbc:
            yield adbc
        return
    if connection.in_atomic_block:
        raise RuntimeError("ADBC on SQLite cannot run inside a Django transaction")
    path = str(connection.settings_dict["NAME"])
    connection.close()
    with checkpoints_paused(), _sqlite_connect(path) as adbc:
        yield adbc


# Set on every ADBC connection to SQLite, as settings.py sets them on Django's: the page cache
# holds the decision indexes while a million rows go in, and a commit in WAL mode does not wait
# for fsync (SQLite's default, FULL, cost the night's write 2.4 s of its 8 at a million accounts).
SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA cache_size = -200000",
    "PRAGMA synchronous = NORMAL",
)


def _sqlite_connect(path: str):
    """adbc_driver_sqlite.dbapi.connect with `SQLITE_PRAGMAS` run before the connection's first
    transaction (its DB-API wrapper opens one at once, and SQLite refuses to change
    `synchronous` inside one)."""
    import adbc_driver_manager
    import adbc_driver_sqlite
    import adbc_driver_sqlite.dbapi

    db = adbc_driver_sqlite.connect(path)
    try:
        conn = adbc_driver_manager.AdbcConnection(db)
        try:
            for pragma in SQLITE_PRAGMAS:
                statement = adbc_driver_manager.AdbcStatement(conn)
                try:
                    statement.set_sql_query(pragma)
                    statement.execute_update()
                finally:
                    statement.close()
            return adbc_driver_sqlite.dbapi.AdbcSqliteConnection(db, conn)
        except BaseException:
            conn.close()
            raise
    except BaseException:
        db.close()
        raise
