"""doorstep.sqlite: WAL checkpoints in a background thread, never in a writer's COMMIT (SQLite
only)."""

import os
import sqlite3
import threading

import pytest
from django.db import connection, connections

from doorstep import arrowdb
from doorstep.sqlite import base as backend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("doorstep.sqlite is the SQLite backend")


def test_connections_leave_checkpoints_to_this_process_checkpointer():
    assert isinstance(connections["default"], backend.DatabaseWrapper)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 0
    path = os.fspath(connection.settings_dict["NAME"])
    thread = backend._checkpointers[(os.getpid(), path)]
    assert thread.is_alive()
    assert thread.daemon
    assert backend.ensure_checkpointer(path) is thread  # one per process and file


def wal_database(path) -> sqlite3.Connection:
    """A database in WAL mode with automatic checkpoints off and 2,000 pages in its log."""
    database = sqlite3.connect(path, isolation_level=None)
    database.execute("PRAGMA journal_mode = WAL")
    database.execute("PRAGMA wal_autocheckpoint = 0")
    database.execute("CREATE TABLE t (x BLOB)")
    database.execute("BEGIN")
    for _ in range(2000):
        database.execute("INSERT INTO t VALUES (randomblob(4000))")
    database.execute("COMMIT")
    return database


def test_a_checkpoint_copies_the_whole_log_back(tmp_path):
    path = tmp_path / "wal.sqlite3"
    writer = wal_database(path)  # kept open: the log stays on disk

    busy, frames, copied = backend.checkpoint(str(path))

    assert busy == 0
    assert frames > 2000
    assert copied == frames
    assert writer.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 2000


def test_a_checkpoint_of_a_removed_database_creates_nothing(tmp_path):
    path = tmp_path / "gone.sqlite3"

    assert backend.checkpoint(str(path)) is None
    assert not path.exists()


def test_the_checkpointer_of_a_removed_database_stops(tmp_path, monkeypatch):
    monkeypatch.setattr(backend, "INTERVAL_SECONDS", 0)
    thread = backend.ensure_checkpointer(str(tmp_path / "never.sqlite3"))

    thread.join(timeout=30)

    assert not thread.is_alive()
    assert not (tmp_path / "never.sqlite3").exists()


def _checkpoint_could_start() -> bool:
    """Whether a checkpointer's round could start now (asked from another thread, as the
    checkpointer asks)."""
    result = []

    def ask():
        if free := backend._round.acquire(blocking=False):
            backend._round.release()
        result.append(free)

    thread = threading.Thread(target=ask)
    thread.start()
    thread.join()
    return result[0]


@pytest.mark.django_db(transaction=True)
def test_no_checkpoint_runs_while_adbc_has_the_database_open():
    """ADBC's copy of SQLite would have the WAL deleted under it by the checkpointer's closing
    connection (the CI's "disk I/O error"). The pause nests: the snapshot opens several."""
    with arrowdb.adbc_connect():
        assert not _checkpoint_could_start()
        with arrowdb.adbc_connect():
            assert not _checkpoint_could_start()
        assert not _checkpoint_could_start()

    assert _checkpoint_could_start()


@pytest.mark.django_db(transaction=True)
def test_adbc_connections_keep_djangos_sqlite_settings_and_their_transactions():
    """The PRAGMAs run before the DB-API wrapper opens its transaction (SQLite refuses to change
    `synchronous` inside one), and the connection still commits and rolls back as DB-API says."""
    with arrowdb.adbc_connect() as adbc, adbc.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone() == (1,)  # NORMAL, as settings.py sets Django's
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone() == (30000,)
        cursor.execute("CREATE TABLE adbc_probe (n INTEGER)")
        cursor.execute("INSERT INTO adbc_probe VALUES (1)")
        adbc.commit()
        cursor.execute("INSERT INTO adbc_probe VALUES (2)")
        adbc.rollback()
        cursor.execute("SELECT n FROM adbc_probe")
        assert cursor.fetchall() == [(1,)]
        cursor.execute("DROP TABLE adbc_probe")
        adbc.commit()
