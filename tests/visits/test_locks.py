"""A visit move locks the visit's account before the visit (docs/adr/0010). A payment holds the
account while it cancels the account's visits; a move that held the visit and then reached for
the account (a contact, a hold, a re-evaluation) crossed it.

The test holds the account's row in one connection, starts a move in another and waits until
PostgreSQL says the move is waiting for that lock. The holder then asks for the visit's row
without waiting: it is free only if the move did not take it before the account."""

import threading
import time
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction

from doorstep.ledger.queries import locked_account
from doorstep.visits import domain
from doorstep.visits.enums import VisitState
from doorstep.visits.models import Visit
from tests.visits.conftest import VISIT_DAY, local
from tests.visits.test_workflow import assigned

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks: PostgreSQL (SQLite locks the whole database for a write)",
)

DEADLINE = 15  # seconds


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _poll(query: str, params, *, until, what: str):
    """Run `query` (autocommit, fresh statistics each time) until `until(rows)`; fail after the
    deadline saying `what` was awaited."""
    deadline = time.monotonic() + DEADLINE
    while True:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        if until(rows):
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE} s for {what}; last saw {rows}")
        time.sleep(0.02)


def _check_in(visit, agent):
    return lambda: domain.check_in(visit.pk, agent=agent, at=local(VISIT_DAY, 10))


def _record_outcome(visit, agent):
    domain.check_in(visit.pk, agent=agent, at=local(VISIT_DAY, 10))
    return lambda: domain.record_outcome(
        visit.pk, agent=agent, at=local(VISIT_DAY, 10, 40), outcome="promise_to_pay",
        identity_checked=True, address_confirmed=True,
        ptp_amount_cents=100000, ptp_date=date(2026, 11, 18),
    )  # fmt: skip


def _cancel(visit, agent):
    return lambda: domain.cancel_visit(visit.pk, by="sup", at=local(VISIT_DAY, 8), reason="other")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("start", "ends_in"),
    [
        (_check_in, VisitState.IN_PROGRESS),
        (_record_outcome, VisitState.FOLLOW_UP),
        (_cancel, VisitState.CANCELLED),
    ],
    ids=["check_in", "record_outcome", "cancel"],
)
def test_a_visit_move_waits_for_the_account_before_it_locks_the_visit(field, start, ends_in):
    agent, _ = field["agents"]
    visit = assigned(field)
    move = start(visit, agent)
    holding, ask_visit, release = threading.Event(), threading.Event(), threading.Event()
    seen: dict = {}

    def hold_the_account():  # what a payment in progress holds
        try:
            seen["holder"] = _backend_pid()
            with transaction.atomic():
                locked_account(visit.account_id)
                holding.set()
                ask_visit.wait(DEADLINE)
                try:
                    with transaction.atomic():
                        Visit.objects.select_for_update(nowait=True).get(pk=visit.pk)
                    seen["visit_row"] = "free"
                except DatabaseError as e:
                    seen["visit_row"] = f"locked by the move: {e}"
                release.wait(DEADLINE)
        finally:
            holding.set()
            connection.close()

    def run_the_move():
        try:
            seen["mover"] = _backend_pid()
            seen["result"] = move()
        except Exception as e:
            seen["result"] = e
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_account)
    holder.start()
    holding.wait(DEADLINE)
    mover = threading.Thread(target=run_the_move)
    mover.start()
    try:
        _poll("SELECT 1", [], until=lambda _: "mover" in seen, what="the move's connection")
        _poll(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
            [seen["mover"]],
            until=lambda rows: rows == [("Lock",)],
            what="the move to wait on a lock",
        )
        [(blockers, relations)] = _poll(
            "SELECT pg_blocking_pids(%s),"
            " ARRAY(SELECT relation::regclass::text FROM pg_locks"
            "       WHERE pid = %s AND locktype = 'tuple')",
            [seen["mover"], seen["mover"]],
            until=lambda rows: bool(rows and rows[0][0]),
            what="the move's blocker",
        )
        # Blocked by the account's holder, queued on a row of ledger_account.
        assert (blockers, relations) == ([seen["holder"]], ["ledger_account"])
        ask_visit.set()
        _poll("SELECT 1", [], until=lambda _: "visit_row" in seen, what="the holder's answer")
    finally:
        ask_visit.set()
        release.set()
        holder.join(DEADLINE)
        mover.join(DEADLINE)

    assert seen["visit_row"] == "free"
    assert not isinstance(seen["result"], Exception), seen["result"]
    assert Visit.objects.get(pk=visit.pk).state == ends_in
