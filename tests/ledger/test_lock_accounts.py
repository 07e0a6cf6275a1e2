"""Batches lock their accounts in one order (docs/adr/0010), in slices SQLite can take."""

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from doorstep.ledger import queries


@pytest.mark.django_db
def test_accounts_are_locked_in_ascending_slices(monkeypatch):
    monkeypatch.setattr(queries, "LOCK_SLICE", 2)

    with transaction.atomic(), CaptureQueriesContext(connection) as seen:
        queries.lock_accounts(["C", "A", "B", "A", "D", "E"])

    assert len(seen.captured_queries) == 3
    slices = [
        [part for part in "ABCDE" if f"'{part}'" in query["sql"]] for query in seen.captured_queries
    ]
    assert slices == [["A", "B"], ["C", "D"], ["E"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row lock modes: PostgreSQL")
@pytest.mark.parametrize("lock", ["one", "batch"])
def test_an_account_write_lets_a_foreign_key_check_through_but_not_another_write(tmp_path, lock):
    """An insert naming a locked account checks its key with FOR KEY SHARE: under a plain FOR
    UPDATE it queued behind the writer (while holding what it had locked, the audit head)."""
    import threading

    from doorstep.intake.importer import import_portfolio
    from tests.strategy.builder import Portfolio

    p = Portfolio(date(2026, 11, 20))
    p.account("K1", overdue="800.00", dpd=3)
    import_portfolio(p.write(tmp_path / "p"))
    holding, done, seen = threading.Event(), threading.Event(), {}

    def hold():
        try:
            with transaction.atomic():
                if lock == "one":
                    queries.locked_account("K1")
                else:
                    queries.lock_accounts(["K1"])
                holding.set()
                done.wait(15)
        finally:
            holding.set()
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(15)
        for mode in ("KEY SHARE", "NO KEY UPDATE"):
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    sql = f"SELECT id FROM ledger_account WHERE id = 'K1' FOR {mode} NOWAIT"  # noqa: S608
                    cursor.execute(sql)
                seen[mode] = "granted"
            except DatabaseError as e:  # the lock refused is the answer
                seen[mode] = type(e).__name__
    finally:
        done.set()
        holder.join(15)

    assert seen == {"KEY SHARE": "granted", "NO KEY UPDATE": "OperationalError"}
