"""What only a database owner can do: lift the audit tables' append-only triggers.

Tests use it twice: to tamper with the trail as an attacker with DBA rights would (the chain must
then name the damage), and to let the test runner's flush empty the tables between tests.
"""

import importlib
from contextlib import contextmanager

from django.db import connection

append_only = importlib.import_module("doorstep.audit.migrations.0002_append_only")
retention = importlib.import_module("doorstep.compliance.migrations.0002_retention")

TABLES = append_only.TABLES + [table for table, _ in retention.RECORDS]


def statements(vendor: str) -> tuple[list[str], list[str]]:
    """(lift, restore) for a database vendor: the audit trail's triggers and the retention ones."""
    if vendor == "postgresql":
        return (
            append_only.POSTGRES_REVERSE + retention.POSTGRES_REVERSE,
            append_only.POSTGRES + retention.POSTGRES,
        )
    return (
        append_only.SQLITE_REVERSE + retention.SQLITE_REVERSE,
        append_only.SQLITE + retention.SQLITE,
    )


@contextmanager
def triggers_lifted():
    lift, restore = statements(connection.vendor)
    with connection.cursor() as cursor:
        for sql in lift:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in restore:
                cursor.execute(sql)


def tamper(sql: str, params=()) -> None:
    with triggers_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)
