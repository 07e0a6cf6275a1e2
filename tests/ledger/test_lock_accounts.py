"""Batches lock their accounts in one order (docs/adr/0010), in slices SQLite can take."""

import pytest
from django.db import connection, transaction
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
