"""The collection score's training history from doorstep's own ledger: one row per account and
month, with the score's history inputs as of that month's end and whether the account then rolled.

A "month" is the score's own 30-day step (`scoring.engine.features.MONTH_DAYS`): the month-ends are
as_of − 30, as_of − 60 … Each is one pass of the nightly run's feature SQL (`featuresql`) over one
snapshot of the ledger read once through ADBC — the same history inputs (`features.INPUTS`) the
nightly run scores, computed the same way, set-based, one SQL pass per month-end and none per
account. The accounts of a month-end are those opened by then and not settled by then.

Label: the account **rolled** — 30 days later something is still owed and its bucket is deeper
(M0 → M1, M1 → M2 …), or it was already beyond 180 days and is further behind still (the
charge-off range, which has no deeper bucket). Settling, or paying the oldest instalment, within
the 30 days is not a roll. Rows are account-months with something owed at the month-end.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
from django.conf import settings

from doorstep.scoring.engine.features import INPUTS, MONTH_DAYS
from doorstep.strategy import snapshot
from doorstep.strategy.engine.featuresql import features_sql

# Buckets as the ledger's (M0 … M6, M6+ beyond 180 days), as an ordinal for comparing depth.
BUCKET_SQL = (
    "CASE WHEN {dpd} = 0 THEN 0 WHEN {dpd} <= 30 THEN 1 WHEN {dpd} <= 60 THEN 2 "
    "WHEN {dpd} <= 90 THEN 3 WHEN {dpd} <= 120 THEN 4 WHEN {dpd} <= 150 THEN 5 "
    "WHEN {dpd} <= 180 THEN 6 ELSE 7 END"
)
CHARGE_OFF_DPD = 180


@dataclass(frozen=True)
class LedgerHistory:
    """Account-months as arrays, oldest month first."""

    month_ends: tuple[date, ...]  # the month-ends with a label, oldest first
    month: np.ndarray  # per row: index into month_ends
    account: np.ndarray  # per row: the account's id
    inputs: dict[str, np.ndarray]  # features.INPUTS, per row
    labels: np.ndarray  # 1: rolled within 30 days

    @property
    def rows(self) -> int:
        return len(self.labels)


def month_ends(as_of: date, months: int) -> list[date]:
    """The `months` month-ends whose 30 days after have passed by `as_of`, oldest first."""
    return [as_of - timedelta(days=MONTH_DAYS * k) for k in range(months, 0, -1)]


def _sources(day: date, regions_sql: str) -> str:
    """The snapshot relations as of `day`: the book then, and the regions' day end that day."""
    d = f"DATE '{day.isoformat()}'"
    return f"""
regions AS ({regions_sql}),
accounts AS (
    SELECT account_id, product, region_code, auto_debit FROM book
    WHERE opened_on <= {d} AND (settled_on IS NULL OR settled_on > {d})
),
previous AS (SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS stage
             WHERE FALSE)"""


def ledger_history(as_of: date, *, months: int = 12) -> LedgerHistory:
    """Account-months of the `months` month-ends before `as_of` (see the module's docstring)."""
    tables = snapshot.arrow_snapshot(as_of, history=True)
    db = duckdb.connect()
    db.execute(f"SET threads = {settings.DOORSTEP_DUCKDB_THREADS}")
    for name, table in tables.items():
        if name == "regions":
            continue
        db.register(f"{name}_raw", table)
        typed = (
            snapshot.HISTORY_ACCOUNTS_TYPED if name == "accounts" else snapshot.TYPED.get(name, "*")
        )
        db.execute(f"CREATE VIEW {'book' if name == 'accounts' else name} AS "
                   f"SELECT {typed} FROM {name}_raw")  # fmt: skip
    ends = month_ends(as_of, months)
    columns = ", ".join(INPUTS)
    db.execute(
        f"CREATE TABLE hist (month INTEGER, account_id VARCHAR, "
        f"{', '.join(f'{name} BIGINT' for name in INPUTS)})"
    )
    # Each month-end and the day 30 later (the last one: as_of itself) is one pass.
    for n, day in enumerate([*ends, as_of]):
        sql = features_sql(day, "duckdb", _sources(day, snapshot.regions_values_sql(day)))
        db.execute(
            f"INSERT INTO hist SELECT {n}, account_id, {columns} FROM ({sql}) f "
            "WHERE f.outstanding_cents > 0"
        )
    rolled = (
        f"(b.account_id IS NOT NULL AND ({BUCKET_SQL.format(dpd='b.dpd')} > "
        f"{BUCKET_SQL.format(dpd='a.dpd')} OR (a.dpd > {CHARGE_OFF_DPD} AND b.dpd > a.dpd)))"
    )
    result = db.sql(
        f"""SELECT a.month, a.account_id, {", ".join(f"a.{name}" for name in INPUTS)},
                   CAST({rolled} AS INTEGER) AS label
            FROM hist a LEFT JOIN hist b
              ON b.account_id = a.account_id AND b.month = a.month + 1
            WHERE a.month < {len(ends)}
            ORDER BY a.month, a.account_id"""
    ).to_arrow_table()
    db.close()
    return LedgerHistory(
        month_ends=tuple(ends),
        month=result.column("month").to_numpy(),
        account=result.column("account_id").to_numpy(zero_copy_only=False),
        inputs={name: result.column(name).to_numpy() for name in INPUTS},
        labels=result.column("label").to_numpy(),
    )
