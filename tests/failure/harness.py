"""What the failure tests share: processes started under a fixed clock and killed with SIGKILL,
waiting on real conditions with a deadline, and databases of their own (SQLite files under a
temporary DOORSTEP_VAR_DIR; on PostgreSQL, databases named doorstep_tasks_* that are dropped
afterwards)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import psycopg
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def on_postgres() -> bool:
    return connection.vendor == "postgresql"  # the engine is doorstep.postgres, not Django's


def url_of(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database of a Django connection's settings."""
    if settings_dict["ENGINE"] in ("doorstep.sqlite", "django.db.backends.sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    auth = settings_dict["USER"] + (
        f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    )
    return f"postgres://{auth}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


def spawn(args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m tests.failure.child ARGS` with its output in `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "tests.failure.child", *args],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def run(args: list[str], *, env: dict[str, str], log: Path, seconds: float = 300) -> str:
    """Run a child to its end; fail with its output unless it exits 0."""
    process = spawn(args, env=env, log=log)
    try:
        code = process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        kill(process)
        raise AssertionError(f"{args} still running after {seconds} s:\n{tail(log)}") from None
    assert code == 0, f"{args} exited {code}:\n{tail(log)}"
    return log.read_text(errors="replace")


def kill(process: subprocess.Popen) -> int:
    """SIGKILL: no handler, no clean-up, no flush."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    return process.wait(timeout=30)


def wait_for(
    condition: Callable[[], T], *, what: str, seconds: float = 60, process=None, log=None
) -> T:
    """Poll `condition` until it returns something true; fail after `seconds`, or as soon as
    `process` (the one expected to get there) has exited."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the process exited ({process.returncode}) before {what}:\n{tail(log)}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {seconds} s:\n{tail(log) if log else ''}")
        time.sleep(0.01)


def tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


class Databases:
    """Databases of a test's own, by name: SQLite files in `directory`, or PostgreSQL databases
    doorstep_tasks_<random>_<name> on the server DATABASE_URL names. `copy` is a whole, consistent
    copy (SQLite's backup API; PostgreSQL's CREATE DATABASE ... TEMPLATE)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.postgres = on_postgres()
        self.prefix = f"doorstep_tasks_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def url(self, name: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.directory / f'{name}.sqlite3'}"
        server = dict(settings.DATABASES["default"], NAME=f"{self.prefix}_{name}")
        return url_of(server)

    def create(self, name: str) -> str:
        if self.postgres:
            self._admin(f'CREATE DATABASE "{self.prefix}_{name}"')
            self.created.append(name)
        return self.url(name)

    def copy(self, source: str, name: str) -> str:
        if self.postgres:
            self._admin(f'CREATE DATABASE "{self.prefix}_{name}" TEMPLATE "{self.prefix}_{source}"')
            self.created.append(name)
        else:
            with (
                closing(sqlite3.connect(self.directory / f"{source}.sqlite3")) as src,
                closing(sqlite3.connect(self.directory / f"{name}.sqlite3")) as dst,
            ):
                src.backup(dst)
        return self.url(name)

    def connect(self, name: str):
        """A DB-API connection (autocommit) to read a database while or after children use it."""
        if self.postgres:
            return psycopg.connect(
                self.url(name).replace("postgres://", "postgresql://"), autocommit=True
            )
        return sqlite3.connect(self.directory / f"{name}.sqlite3", timeout=30, isolation_level=None)

    def drop_all(self) -> None:
        for name in reversed(self.created):
            self._admin(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')
        self.created.clear()

    def _admin(self, sql: str) -> None:
        with psycopg.connect(
            self.url("x").rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres",
            autocommit=True,
        ) as admin:
            admin.execute(sql)


def query(db, sql: str, params=()) -> list[tuple]:
    """Rows of a query on a DB-API connection of Databases.connect (placeholders as %s)."""
    if isinstance(db, sqlite3.Connection):
        sql = sql.replace("%s", "?")
    with closing(db.cursor()) as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]
