"""Django's SQLite backend, with WAL checkpoints taken off the writers' path.

In WAL mode SQLite copies the log back into the database file (a checkpoint: page writes and a
sync) inside the COMMIT of whichever transaction takes the log past 1,000 pages. With the small
transactions of the real-time path, about one commit in a hundred paid for everyone's writes:
that was the tail of re-evaluating one account (p99 13 ms against p50 4.5 ms at 100,000
accounts; 8.6 ms without those checkpoints). Here each connection turns automatic checkpoints
off, and one daemon thread per process and database file checkpoints every second on a
short-lived connection of its own. PASSIVE: it neither waits for nor blocks readers and
writers; what it cannot copy yet it copies on a later round. Settings use this backend whenever
the database is SQLite; `vendor` stays "sqlite".
"""

import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.db.backends.sqlite3 import base

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0
_checkpointers: dict[tuple[int, str], threading.Thread] = {}
_lock = threading.Lock()
# Held by a checkpointer's round, and by `checkpoints_paused` (which nests: an ADBC read opens
# several connections, one pause each).
_round = threading.RLock()


@contextmanager
def checkpoints_paused():
    """No checkpointer of this process opens a database meanwhile. Switching the journal mode
    needs the file to one connection, and fails ("database is locked") if a checkpoint is under
    way. And a connection through another copy of the SQLite library (ADBC's) must not see one:
    the checkpointer's connection, closing, takes itself for the file's last one (POSIX locks do
    not conflict within a process), so it checkpoints and deletes the WAL and its index under the
    other copy ("disk I/O error", "database disk image is malformed")."""
    with _round:
        yield


def checkpoint(path: str) -> tuple[int, int, int] | None:
    """One PASSIVE checkpoint of the database at `path`: (busy, frames in the log, frames
    copied), or None when the file is gone (it is never created here)."""
    uri = Path(path).resolve().as_uri() + "?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=1, isolation_level=None)
    except sqlite3.OperationalError:
        return None
    try:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()


def _checkpoint_every_second(path: str) -> None:
    while True:
        time.sleep(INTERVAL_SECONDS)
        try:
            with _round:
                done = checkpoint(path)
            if done is None:
                return  # the database was removed; the next connection to one starts anew
        except sqlite3.Error as error:  # busy past the timeout, I/O: try again next round
            logger.warning("WAL checkpoint of %s failed: %s", path, error)


def ensure_checkpointer(path: str) -> threading.Thread:
    """The running checkpointer of `path` in this process, started if there is none (a forked
    worker inherits the parent's record but not its thread)."""
    key = (os.getpid(), path)
    with _lock:
        thread = _checkpointers.get(key)
        if thread is None or not thread.is_alive():
            thread = threading.Thread(
                target=_checkpoint_every_second, args=(path,), name="sqlite-checkpoint", daemon=True
            )
            thread.start()
            _checkpointers[key] = thread
        return thread


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute("PRAGMA wal_autocheckpoint = 0")
            ensure_checkpointer(os.fspath(self.settings_dict["NAME"]))
        return connection
